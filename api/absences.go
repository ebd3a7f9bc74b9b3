package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/teams"
	"sportello/internal/store"
)

// Absences and delegations (internal/app/teams does the work): the JSON
// handlers, and the team filter of task lists.

func (s *server) listAbsences(c *gin.Context) error {
	items, err := s.teams.Absences(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.AbsenceView]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) createAbsence(c *gin.Context) error {
	var req teams.AbsenceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.teams.RecordAbsence(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

func (s *server) cancelAbsence(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.teams.CancelAbsence(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// teamFilter checks the team filter of a task list: "", "mine" or the id
// of a team of the caller's district.
func (s *server) teamFilter(ctx context.Context, user store.UserView, team string) (string, []FieldError) {
	return s.teams.TeamFilter(ctx, user, team)
}
