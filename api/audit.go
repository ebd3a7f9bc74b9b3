package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/store"
)

// The audit trail is written by the application services (internal/app,
// audit.go explains what is recorded and when); supervisors read it here.

func (s *server) auditLog(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f, fields := httpx.AuditFilter(c.Query("case_id"), c.Query("actor"))
	if len(fields) > 0 {
		return invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
	items, total, err := s.api.AuditLog(c.Request.Context(), httpx.CurrentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.AuditEntry]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}
