package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/store"
)

// incidentStatus reads the status parameter of the incident lists: open
// (the default), resolved or all ("" to the store).
func incidentStatus(c *gin.Context) (string, error) {
	switch v := strings.TrimSpace(c.Query("status")); v {
	case "", store.IncidentOpen:
		return store.IncidentOpen, nil
	case store.IncidentResolved:
		return v, nil
	case "all":
		return "", nil
	}
	return "", invalid(app.Param("status", "invalid", "api.err.incident_status"))
}

// listIncidents is GET /api/v1/incidents: the incidents of the supervisor's
// district (row-level security keeps other districts' out).
func (s *server) listIncidents(c *gin.Context) error {
	status, err := incidentStatus(c)
	if err != nil {
		return err
	}
	items, err := s.api.Incidents(c.Request.Context(), httpx.CurrentUser(c).Scope(), status)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
