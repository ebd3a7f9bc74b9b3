package web

import (
	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// inboxTeams reads the inbox's team filter ("" every task, "mine" the
// user's teams, or a team of the district) and the choices of its select.
func (s *Site) inboxTeams(c *gin.Context, user store.UserView) (string, []staffOption, error) {
	teams, err := s.teams.InboxTeams(c.Request.Context(), user)
	if err != nil {
		return "", nil, err
	}
	want := c.Query("team")
	opts := []staffOption{{Value: "", Label: s.t(c, "inbox.team.all")}, {Value: store.TeamMine, Label: s.t(c, "inbox.team.mine")}}
	for _, t := range teams {
		opts = append(opts, staffOption{Value: t.ID, Label: t.Name})
	}
	team := ""
	for i := range opts {
		if opts[i].Value == want {
			team, opts[i].Selected = want, true
		}
	}
	return team, opts, nil
}
