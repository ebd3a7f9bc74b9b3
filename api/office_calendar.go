package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/teams"
)

// The municipalities' office calendars (issue 4), read and set by
// supervisors through internal/app/teams, which checks and audits every
// change.

func (s *server) putOfficeCalendar(c *gin.Context) error {
	var req teams.OfficeCalendarRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	o, err := s.teams.SetOfficeCalendar(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, o)
	return nil
}
