package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/store"
)

// The audit trail is written by the application services (internal/app,
// audit.go explains what is recorded and when); these are the API's
// shorthands for it.

func withRequestID(ctx context.Context, id string) context.Context { return app.WithRequestID(ctx, id) }

func requestIDFrom(ctx context.Context) string { return app.RequestID(ctx) }

func (s *server) audit(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	return s.core.Audit(ctx, user, e)
}

func (s *server) auditWritable(ctx context.Context, user store.UserView, e store.AuditEntry) error {
	return s.core.AuditWritable(ctx, user, e)
}

func (s *server) auditRead(ctx context.Context, user store.UserView, action, caseID, municipality string, detail any) error {
	return s.core.AuditRead(ctx, user, action, caseID, municipality, detail)
}

func (s *server) auditRefused(ctx context.Context, user store.UserView, e store.AuditEntry, cause error) {
	if cause != nil {
		s.core.AuditOutcome(ctx, user, e, cause)
	}
}

func (s *server) auditOutcome(ctx context.Context, user store.UserView, e store.AuditEntry, err error) {
	s.core.AuditOutcome(ctx, user, e, err)
}

func (s *server) audited(ctx context.Context, user store.UserView, e store.AuditEntry, do func() error) error {
	return s.core.Audited(ctx, user, e, do)
}

func auditDetail(v any) json.RawMessage { return app.AuditDetail(v) }

func taskAudit(action string, t store.TaskView, reason string, detail map[string]any) store.AuditEntry {
	return app.TaskAudit(action, t, reason, detail)
}

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
