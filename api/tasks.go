package api

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
	"sportello/workflows"
)

var taskStatuses = []string{"open", "claimed", "done", "all"}

func (s *server) listTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.TaskFilter{Status: c.DefaultQuery("status", "all"), Limit: limit, Offset: offset}
	var fields []FieldError
	if !slices.Contains(taskStatuses, f.Status) {
		fields = append(fields, param("status", "invalid", "status must be one of "+strings.Join(taskStatuses, ", "),
			"status deve essere uno tra "+strings.Join(taskStatuses, ", ")))
	}
	switch c.Query("overdue") {
	case "", "false", "0":
	case "true", "1":
		f.Overdue = true
	default:
		fields = append(fields, param("overdue", "invalid", "overdue must be true or false", "overdue deve essere true o false"))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	items, total, err := s.api.Tasks(c.Request.Context(), currentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.TaskView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

// visibleTask reads the task under the caller's scope: a task of another
// municipality is simply not found.
func (s *server) visibleTask(c *gin.Context) (store.TaskView, error) {
	t, err := s.api.Task(c.Request.Context(), currentUser(c).Scope(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return t, notFound("task")
	}
	return t, err
}

func (s *server) getTask(c *gin.Context) error {
	t, err := s.visibleTask(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

// emptyBody accepts no body or an empty JSON object, on actions that take
// no input.
func emptyBody(c *gin.Context) error {
	body, err := readBody(c)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	var v struct{}
	return decodeBytes(body, &v)
}

func (s *server) claimTask(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	t, err := s.visibleTask(c)
	if err != nil {
		return err
	}
	var res workflows.ClaimResult
	if err := s.update(c.Request.Context(), t.CaseID, workflows.UpdateClaim, updateID(c, "claim:"+t.ID), &res,
		workflows.ClaimInput{TaskID: t.ID, Actor: actor(currentUser(c))}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

func (s *server) releaseTask(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	t, err := s.visibleTask(c)
	if err != nil {
		return err
	}
	var res workflows.ReleaseResult
	if err := s.update(c.Request.Context(), t.CaseID, workflows.UpdateRelease, updateID(c, "release:"+t.ID), &res,
		workflows.ReleaseInput{TaskID: t.ID, Actor: actor(currentUser(c))}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

type decisionRequest struct {
	Outcome     string `json:"outcome"`
	AmountCents *int64 `json:"amount_cents"`
	Reason      string `json:"reason"`
}

var outcomes = []string{workflows.OutcomeApprove, workflows.OutcomeReject, workflows.OutcomeRequestInfo}

// maxAmountCents bounds every amount the API accepts (one million euro).
const maxAmountCents = 100_000_000

func (req *decisionRequest) validate() []FieldError {
	var fields []FieldError
	if !slices.Contains(outcomes, req.Outcome) {
		fields = append(fields, field("/outcome", "enum", "outcome must be one of approve, reject, request_info",
			"outcome deve essere uno tra approve, reject, request_info"))
	}
	if req.AmountCents != nil && *req.AmountCents < 0 {
		fields = append(fields, field("/amount_cents", "minimum", "amount_cents must not be negative",
			"amount_cents non può essere negativo"))
	} else if req.AmountCents != nil && *req.AmountCents > maxAmountCents {
		fields = append(fields, field("/amount_cents", "maximum", "amount_cents is too large",
			"amount_cents è troppo grande"))
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" && (req.Outcome == workflows.OutcomeReject || req.Outcome == workflows.OutcomeRequestInfo) {
		fields = append(fields, field("/reason", "required", "a reason is required to reject or to request information",
			"la motivazione è obbligatoria per respingere o per chiedere informazioni"))
	}
	if utf8.RuneCountInString(req.Reason) > 2000 {
		fields = append(fields, field("/reason", "too_long", "the reason may be at most 2000 characters",
			"la motivazione può avere al massimo 2000 caratteri"))
	}
	return fields
}

func (s *server) decideTask(c *gin.Context) error {
	var req decisionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if fields := req.validate(); len(fields) > 0 {
		return invalid(fields...)
	}
	t, err := s.visibleTask(c)
	if err != nil {
		return err
	}
	in := workflows.DecideInput{TaskID: t.ID, Actor: actor(currentUser(c)), Outcome: req.Outcome, Reason: req.Reason}
	if req.AmountCents != nil {
		in.AmountCents = *req.AmountCents
	}
	var res workflows.DecideResult
	if err := s.update(c.Request.Context(), t.CaseID, workflows.UpdateDecide, updateID(c, "decide:"+t.ID), &res, in); err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}
