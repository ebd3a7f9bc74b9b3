package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/calendar"
	"sportello/internal/store"
	"sportello/workflows"
)

// absenceRequest is the body of POST /api/v1/absences: the absent person
// (the caller when empty), the delegate, the first and last day (inclusive,
// YYYY-MM-DD, Europe/Rome) and the reason.
type absenceRequest struct {
	User     string `json:"user"`
	Delegate string `json:"delegate"`
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason"`
}

const dateLayout = "2006-01-02"

// validate checks the request's form and turns the days into the range
// [first day 00:00, day after the last 00:00) in Europe/Rome.
func (req *absenceRequest) validate(user store.UserView, now time.Time) (store.NewAbsence, []FieldError) {
	var fields []FieldError
	req.User, req.Delegate, req.Reason = strings.TrimSpace(req.User), strings.TrimSpace(req.Delegate), strings.TrimSpace(req.Reason)
	if req.User == "" {
		req.User = user.Username
	}
	if req.Delegate == "" {
		fields = append(fields, field("/delegate", "required", "Choose a delegate.", "Scegliere un delegato."))
	}
	if req.Reason == "" {
		fields = append(fields, field("/reason", "required", "Give a reason (e.g. holiday, training).",
			"Indicare un motivo (ad esempio ferie, formazione)."))
	} else if utf8.RuneCountInString(req.Reason) > 500 {
		fields = append(fields, field("/reason", "max_length", "At most 500 characters.", "Al massimo 500 caratteri."))
	}
	rome := calendar.Rome()
	from, errFrom := time.ParseInLocation(dateLayout, strings.TrimSpace(req.From), rome)
	if errFrom != nil {
		fields = append(fields, field("/from", "invalid_date", "The first day is a date (YYYY-MM-DD).",
			"Il primo giorno è una data (AAAA-MM-GG)."))
	}
	to, errTo := time.ParseInLocation(dateLayout, strings.TrimSpace(req.To), rome)
	if errTo != nil {
		fields = append(fields, field("/to", "invalid_date", "The last day is a date (YYYY-MM-DD).",
			"L'ultimo giorno è una data (AAAA-MM-GG)."))
	}
	local := now.In(rome)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, rome)
	if errFrom == nil && errTo == nil {
		switch {
		case to.Before(from):
			fields = append(fields, field("/to", "before_from", "The last day comes on or after the first.",
				"L'ultimo giorno non può precedere il primo."))
		case to.Before(today):
			fields = append(fields, field("/to", "in_the_past", "The range is in the past.", "Il periodo è nel passato."))
		case from.Before(today):
			fields = append(fields, field("/from", "in_the_past", "The absence cannot start before today.",
				"L'assenza non può iniziare prima di oggi."))
		}
	}
	return store.NewAbsence{User: req.User, Delegate: req.Delegate, StartsAt: from, EndsAt: to.AddDate(0, 0, 1),
		Reason: req.Reason, RecordedAt: now}, fields
}

func (s *server) listAbsences(c *gin.Context) error {
	items, err := s.api.Absences(c.Request.Context(), currentUser(c).Scope(), s.Now())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.AbsenceView]{Items: items, Total: len(items), Limit: len(items)})
	return nil
}

func (s *server) createAbsence(c *gin.Context) error {
	var req absenceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.recordAbsence(c.Request.Context(), currentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

// recordAbsence validates and records an absence and starts its delegation
// workflow in the same step (nothing is recorded if it cannot start).
func (s *server) recordAbsence(ctx context.Context, user store.UserView, req absenceRequest) (store.AbsenceView, error) {
	in, fields := req.validate(user, s.Now())
	if len(fields) > 0 {
		return store.AbsenceView{}, invalid(fields...)
	}
	var v store.AbsenceView
	entry := store.AuditEntry{Action: "record_absence", Reason: in.Reason, Detail: auditDetail(map[string]any{
		"user": in.User, "delegate": in.Delegate, "starts_at": in.StartsAt, "ends_at": in.EndsAt})}
	err := s.audited(ctx, user, entry, func() error {
		var err error
		v, err = s.insertAbsence(ctx, user, in)
		return err
	})
	return v, storeInvalid(err)
}

// insertAbsence records the absence and starts its workflow in one step.
func (s *server) insertAbsence(ctx context.Context, user store.UserView, in store.NewAbsence) (store.AbsenceView, error) {
	return s.api.CreateAbsence(ctx, user, in, func(ctx context.Context, a store.AbsenceView) error {
		if s.Temporal == nil {
			return errors.New("no Temporal client")
		}
		ctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                    workflows.AbsenceWorkflowID(a.ID),
			TaskQueue:             s.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, workflows.Delegation, workflows.DelegationInput{AbsenceID: a.ID})
		return err
	})
}

// storeInvalid turns a store.InvalidError into a 422 on its field.
func storeInvalid(err error) error {
	var ie *store.InvalidError
	if errors.As(err, &ie) {
		return invalid(field(ie.Pointer, ie.Code, ie.Message, ie.MessageIT))
	}
	return err
}

func (s *server) cancelAbsence(c *gin.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	res, err := s.cancelAbsenceFor(c.Request.Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// cancelAbsenceFor cancels an absence visible to user: their own, or any
// of the district's for a supervisor.
func (s *server) cancelAbsenceFor(ctx context.Context, user store.UserView, id string) (workflows.CancelAbsenceResult, error) {
	var res workflows.CancelAbsenceResult
	a, err := s.api.Absence(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return res, notFound("absence")
	}
	if err != nil {
		return res, err
	}
	if user.Role != "supervisor" && a.UserID != user.ID {
		return res, newError(http.StatusForbidden, "forbidden", "only the absent person or a supervisor cancels an absence")
	}
	if a.Status == store.AbsenceCancelled || a.Status == store.AbsenceEnded {
		return res, errAbsenceOver
	}
	if s.Temporal == nil {
		return res, errors.New("no Temporal client")
	}
	entry := store.AuditEntry{Action: "cancel_absence", Detail: auditDetail(map[string]any{"absence_id": a.ID, "user": a.Username})}
	err = s.audited(ctx, user, entry, func() error {
		uctx, cancel := context.WithTimeout(ctx, updateTimeout)
		defer cancel()
		h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
			WorkflowID: workflows.AbsenceWorkflowID(a.ID), UpdateName: workflows.UpdateCancelAbsence,
			UpdateID: "cancel:" + a.ID, Args: []any{workflows.CancelAbsenceInput{Actor: actor(user)}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(uctx, &res)
		}
		return err
	})
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	if errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeAbsenceOver || errors.As(err, &nf) {
		return res, errAbsenceOver
	}
	return res, err
}

var errAbsenceOver = newError(http.StatusConflict, "absence_over", "the absence is over or already cancelled")

// teamFilter checks the team filter of a task list: "", "mine" or the id
// of a team of the caller's district.
func (s *server) teamFilter(ctx context.Context, user store.UserView, team string) (string, []FieldError) {
	team = strings.TrimSpace(team)
	if team == "" || team == store.TeamMine {
		return team, nil
	}
	teams, err := s.api.Teams(ctx, user.Scope())
	if err == nil {
		for _, t := range teams {
			if t.ID == team {
				return team, nil
			}
		}
	}
	return "", []FieldError{param("team", "invalid", "team must be mine or the id of a team of the district",
		"team deve essere mine o l'identificativo di una squadra dell'ambito")}
}
