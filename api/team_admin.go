package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/teams"
	"sportello/internal/store"
)

// Team management for supervisors (issue 4): the district's teams with
// their members and load, creating a team, adding and removing members,
// automatic assignment per team, and which team reviews each fund. The JSON
// handlers and the "Squadre" pages call internal/app/teams, which audits
// every change with the state before and after.

// RemovedMember is the answer to removing a member (teams.RemovedMember).
type RemovedMember = teams.RemovedMember

func (s *server) listTeams(c *gin.Context) error {
	items, err := s.teams.Teams(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.TeamDetail]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) postTeam(c *gin.Context) error {
	var req teams.NewTeam
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := s.teams.CreateTeam(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, t)
	return nil
}

func (s *server) patchTeam(c *gin.Context) error {
	var req teams.TeamPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := s.teams.SetAutoAssign(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

func (s *server) postTeamMember(c *gin.Context) error {
	var req teams.TeamMember
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, err := s.teams.AddMember(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, t)
	return nil
}

func (s *server) deleteTeamMember(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.teams.RemoveMember(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("username"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *server) listFundReviews(c *gin.Context) error {
	items, err := s.teams.FundReviews(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.FundReview]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) putFundReview(c *gin.Context) error {
	var req teams.FundReviewChoice
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.teams.SetFundReview(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, r)
	return nil
}
