package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/store"
)

// The supervisors' page of open incidents: money the platform could not
// move as it should (issue 10), the same list as GET /api/v1/incidents.

type incidentsData struct {
	Rows []store.Incident
}

func (s *Site) incidentsPage(c *gin.Context) error {
	items, err := s.api.Incidents(c.Request.Context(), httpx.CurrentUser(c).Scope(), store.IncidentOpen)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "incidents", view{Title: s.t(c, "inc.title"), Nav: "incidents", Data: &incidentsData{Rows: items}})
	return nil
}
