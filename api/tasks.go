package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
	"sportello/workflows"
)

var taskStatuses = []string{"open", "claimed", "done", "all"}

// parseTaskFilter checks the status and overdue filters of a task list
// (query parameters of the JSON API and of the inbox page alike).
func parseTaskFilter(status, overdue string) (store.TaskFilter, []FieldError) {
	f := store.TaskFilter{Status: status}
	if f.Status == "" {
		f.Status = "all"
	}
	var fields []FieldError
	if !slices.Contains(taskStatuses, f.Status) {
		fields = append(fields, param("status", "invalid", "status must be one of "+strings.Join(taskStatuses, ", "),
			"status deve essere uno tra "+strings.Join(taskStatuses, ", ")))
	}
	switch overdue {
	case "", "false", "0":
	case "true", "1":
		f.Overdue = true
	default:
		fields = append(fields, param("overdue", "invalid", "overdue must be true or false", "overdue deve essere true o false"))
	}
	return f, fields
}

func (s *server) listTasks(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f, fields := parseTaskFilter(c.DefaultQuery("status", "all"), c.Query("overdue"))
	team, teamFields := s.teamFilter(c.Request.Context(), currentUser(c), c.Query("team"))
	f.Team, fields = team, append(fields, teamFields...)
	if len(fields) > 0 {
		return invalid(fields...)
	}
	f.Limit, f.Offset = limit, offset
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
	return s.taskFor(c.Request.Context(), currentUser(c), c.Param("id"))
}

// taskFor reads a task under user's scope (404 "task not found" otherwise).
func (s *server) taskFor(ctx context.Context, user store.UserView, id string) (store.TaskView, error) {
	t, err := s.api.Task(ctx, user.Scope(), id)
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
	if err := s.auditRead(c.Request.Context(), currentUser(c), store.AuditReadTask, t.CaseID, t.Municipality,
		map[string]string{"task_id": t.ID}); err != nil {
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
	res, err := s.claim(c.Request.Context(), currentUser(c), c.Param("id"), updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// claim claims a task visible to user for them. key, when not empty, makes a
// retried claim apply once.
func (s *server) claim(ctx context.Context, user store.UserView, taskID, key string) (workflows.ClaimResult, error) {
	var res workflows.ClaimResult
	t, err := s.reviewTaskFor(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	err = s.audited(ctx, user, taskAudit(store.AuditClaim, t, "", nil), func() error {
		if err := s.refuseOutOfOffice(ctx, user); err != nil {
			return err
		}
		return s.update(ctx, t.CaseID, workflows.UpdateClaim, userUpdateID(user, "claim:"+t.ID, key), &res,
			workflows.ClaimInput{TaskID: t.ID, Actor: actor(user)})
	})
	return res, err
}

func (s *server) releaseTask(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.release(c.Request.Context(), currentUser(c), c.Param("id"), updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// release gives back a task user has claimed.
func (s *server) release(ctx context.Context, user store.UserView, taskID, key string) (workflows.ReleaseResult, error) {
	var res workflows.ReleaseResult
	t, err := s.reviewTaskFor(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	err = s.audited(ctx, user, taskAudit(store.AuditRelease, t, "", nil), func() error {
		return s.update(ctx, t.CaseID, workflows.UpdateRelease, userUpdateID(user, "release:"+t.ID, key), &res,
			workflows.ReleaseInput{TaskID: t.ID, Actor: actor(user)})
	})
	return res, err
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
	res, err := s.decide(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// decide checks a decision and sends it to the case workflow of a task
// visible to user. Field problems are a 422 with pointers /outcome,
// /amount_cents and /reason, whether found here or by the workflow.
func (s *server) decide(ctx context.Context, user store.UserView, taskID string, req decisionRequest, key string) (workflows.DecideResult, error) {
	var res workflows.DecideResult
	if fields := req.validate(); len(fields) > 0 {
		return res, invalid(fields...)
	}
	t, err := s.reviewTaskFor(ctx, user, taskID)
	if err != nil {
		return res, err
	}
	in := workflows.DecideInput{TaskID: t.ID, Actor: actor(user), Outcome: req.Outcome, Reason: req.Reason}
	if req.AmountCents != nil {
		in.AmountCents = *req.AmountCents
	}
	detail := map[string]any{"outcome": req.Outcome}
	if req.AmountCents != nil {
		detail["amount_cents"] = *req.AmountCents
	}
	err = s.audited(ctx, user, taskAudit(store.AuditDecide, t, req.Reason, detail), func() error {
		return s.update(ctx, t.CaseID, workflows.UpdateDecide, userUpdateID(user, "decide:"+t.ID, key), &res, in)
	})
	return res, err
}

// updateKey is the request's Idempotency-Key when it is valid ("" otherwise),
// as updateID reads it.
func updateKey(c *gin.Context) string {
	key, err := idempotencyKey(c)
	if err != nil {
		return ""
	}
	return key
}

// userUpdateID derives a Temporal update id from an idempotency key, so that
// a retried request is applied once ("" lets Temporal pick one). It is
// updateID for callers that are not a JSON request (the web pages).
func userUpdateID(user store.UserView, op, key string) string {
	if key == "" {
		return ""
	}
	return op + ":" + strconv.FormatInt(user.ID, 10) + ":" + key
}
