package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app"
	"sportello/internal/app/operations"
	"sportello/internal/store"
)

// The supervisors' operations console (issue 13, part 2): the same list as
// GET /api/v1/operations, and a form per action; each post calls the use
// case of internal/app/operations and comes back here (PRG). A post with
// field problems (no reason) shows the page again, 422, the problem next
// to the field of the row it came from.

type opsData struct {
	Items    []operations.Item
	NextPage string
	Page     string
	// Failed is the key of the row whose form had problems, FailedError
	// the problem; Reason what was typed.
	Failed, FailedError, Reason string
}

func (s *Site) operationsPage(c *gin.Context) error {
	return s.renderOperations(c, http.StatusOK, nil)
}

func (s *Site) renderOperations(c *gin.Context, status int, d *opsData) error {
	page := c.Query("page")
	rep, err := s.operations.List(c.Request.Context(), httpx.CurrentUser(c), page)
	if err != nil {
		return err
	}
	if d == nil {
		d = &opsData{}
	}
	d.Items, d.NextPage, d.Page = rep.Items, rep.NextPage, page
	v := view{Title: s.t(c, "ops.title"), Nav: "operations", Data: d}
	if d.FailedError != "" {
		v.Errors = []summaryItem{{Href: "#reason-" + d.Failed, Text: s.t(c, "ops.reason") + ": " + d.FailedError}}
	}
	s.render(c, status, "operations", v)
	return nil
}

// opsSubmit runs one console action from its form and comes back with a
// flash message; field problems show the page again (422).
func (s *Site) opsSubmit(c *gin.Context, do func(ctx context.Context, u store.UserView) (operations.Done, error), done string) error {
	_, err := do(c.Request.Context(), httpx.CurrentUser(c))
	var ae *app.Error
	if errors.As(err, &ae) && ae.Kind == app.Invalid && len(ae.Fields) > 0 {
		return s.renderOperations(c, http.StatusUnprocessableEntity, &opsData{Failed: c.PostForm("row"),
			FailedError: ae.Fields[0].In(pageLang(c)), Reason: c.PostForm("reason")})
	}
	if err != nil {
		return err
	}
	setFlash(c, "success", done)
	redirect(c, "/operations")
	return nil
}

func (s *Site) opsRetrySubmit(c *gin.Context) error {
	return s.opsSubmit(c, func(ctx context.Context, u store.UserView) (operations.Done, error) {
		return s.operations.RetryNow(ctx, u, operations.RetryInput{WorkflowID: c.PostForm("workflow_id"),
			RunID: c.PostForm("run_id"), ActivityID: c.PostForm("activity_id")})
	}, "ops.retried")
}

func (s *Site) opsCancelSubmit(c *gin.Context) error {
	return s.opsSubmit(c, func(ctx context.Context, u store.UserView) (operations.Done, error) {
		return s.operations.Cancel(ctx, u, operations.CancelInput{WorkflowID: c.PostForm("workflow_id"),
			RunID: c.PostForm("run_id"), Reason: c.PostForm("reason")})
	}, "ops.cancelled")
}

func (s *Site) opsRefundSubmit(c *gin.Context) error {
	return s.opsSubmit(c, func(ctx context.Context, u store.UserView) (operations.Done, error) {
		return s.operations.RequestRefundResolution(ctx, u, operations.RefundInput{IncidentID: c.PostForm("incident_id"),
			Reason: c.PostForm("reason")})
	}, "ops.refund_requested")
}

func (s *Site) opsApproveSubmit(c *gin.Context) error {
	return s.opsSubmit(c, func(ctx context.Context, u store.UserView) (operations.Done, error) {
		return s.operations.ApproveRefundResolution(ctx, u, operations.RefundInput{IncidentID: c.PostForm("incident_id")})
	}, "ops.refund_resolved")
}
