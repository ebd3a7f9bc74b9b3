package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/applications"
	"sportello/internal/store"
	"sportello/workflows"
)

// Applications: the use cases are in internal/app/applications; these are
// their JSON adapters.

// applicationRequest is the body of POST /api/v1/applications.
type applicationRequest = applications.Filing

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(c *gin.Context) (string, error) {
	key := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if key == "" {
		return "", nil
	}
	if !httpx.ValidIdempotencyKey.MatchString(key) {
		return "", invalid(app.Param("Idempotency-Key", "invalid", "api.err.idempotency_key"))
	}
	return key, nil
}

// applicationFields checks the form id and the data of an application request.
func applicationFields(form string, data json.RawMessage) []FieldError {
	return applications.FilingFields(form, data)
}

func (s *server) createApplication(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req applicationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if fields := req.Validate(); len(fields) > 0 {
		return invalid(fields...)
	}
	v, replayed, err := s.submitApplication(c.Request.Context(), httpx.CurrentUser(c), req.Form, req.Call, req.Data, key, nil)
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/applications/"+url.PathEscape(v.ID))
	c.JSON(http.StatusCreated, s.caseJSON(c, v))
	return nil
}

// submitApplication files an application for user, or on behalf of a
// citizen at the desk (applications.Service.File).
func (s *server) submitApplication(ctx context.Context, user store.UserView, formID, call string, data json.RawMessage,
	idemKey string, onBehalf *store.DeskCitizen) (store.CaseView, bool, error) {
	return s.applications.File(ctx, user, formID, call, data, idemKey, onBehalf)
}

// caseJSON decorates a case for the caller (httpx.CaseForCaller).
func (s *server) caseJSON(c *gin.Context, v store.CaseView) store.CaseView {
	return httpx.CaseForCaller(c, v, s.TemporalUIURL, s.Namespace)
}

// page reads limit and offset (default 50, at most 200; pageWindow).
func page(c *gin.Context) (limit, offset int, err error) {
	limit, offset, fields := httpx.PageWindow(c, 50, 200, true)
	if len(fields) > 0 {
		return 0, 0, invalid(fields...)
	}
	return limit, offset, nil
}

// List is the envelope of every paginated list.
type List[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
	// TotalCapped says that Total is a lower bound: there are more items
	// than that (case lists, task lists and the catalogue count up to a cap).
	TotalCapped bool `json:"total_capped,omitempty"`
	Limit       int  `json:"limit"`
	Offset      int  `json:"offset"`
}

func (s *server) listApplications(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := s.applications.Cases(c.Request.Context(), httpx.CurrentUser(c),
		store.CaseFilter{Limit: limit, Offset: offset, TaxCode: c.Query("tax_code"), Status: c.Query("status")})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.CaseSummary]{Items: items, Total: total.N, TotalCapped: total.More, Limit: limit, Offset: offset})
	return nil
}

func (s *server) getApplication(c *gin.Context) error {
	v, err := s.applications.Case(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, s.caseJSON(c, v))
	return nil
}

// actor is the workflow's view of the caller.
func actor(u store.UserView) workflows.Actor { return app.Actor(u) }
