package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sportello/internal/app"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/store"
	"sportello/workflows"
)

// The cooperative's inbox of bookings (issue 5): the requests pending on it
// with their deadline, the bookings it holds, its deliveries; it confirms a
// request with one date per session or declines it with a reason, and
// records each delivered session. Every answer goes through the booking's
// workflow (a Temporal Update with a validator); every read and action is
// audited with the booking id in the detail.

// Audit actions on bookings.
const (
	auditReadCoopBooking    = "read_coop_booking"
	auditRespondBooking     = "respond_booking"
	auditRecordDelivery     = "record_delivery"
	auditReadCoopDeliveries = "read_coop_deliveries"
)

func (s *server) listCoopBookings(c *gin.Context) error {
	view := c.DefaultQuery("view", store.CoopRequests)
	if view != store.CoopRequests && view != store.CoopActive {
		return invalid(param("view", "invalid", "view is requests or active", "view vale requests oppure active"))
	}
	items, err := s.coopBookings(c.Request.Context(), currentUser(c), view)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// coopBookings lists one view of the inbox, audited.
func (s *server) coopBookings(ctx context.Context, user store.UserView, view string) ([]store.CoopBookingItem, error) {
	items, err := s.api.CoopBookings(ctx, user.Scope(), view)
	if err != nil {
		return nil, err
	}
	return items, s.audit(ctx, user, store.AuditEntry{Action: auditReadCoopBooking,
		Detail: auditDetail(map[string]any{"view": view, "count": len(items)})})
}

func (s *server) listCoopDeliveries(c *gin.Context) error {
	items, err := s.coopDeliveries(c.Request.Context(), currentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

func (s *server) coopDeliveries(ctx context.Context, user store.UserView) ([]store.CoopDelivery, error) {
	items, err := s.api.CoopDeliveries(ctx, user.Scope())
	if err != nil {
		return nil, err
	}
	return items, s.audit(ctx, user, store.AuditEntry{Action: auditReadCoopDeliveries,
		Detail: auditDetail(map[string]any{"count": len(items)})})
}

// coopBooking reads a booking for the user's cooperative (404 otherwise),
// audited.
func (s *server) coopBooking(ctx context.Context, user store.UserView, id string) (store.CoopBookingDetail, string, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.CoopBookingDetail{}, "", notFound("booking")
	}
	coop, err := s.api.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.CoopBookingDetail{}, "", err
	}
	d, err := s.api.CoopBooking(ctx, user.Scope(), coop, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, coop, notFound("booking")
	}
	if err != nil {
		return d, coop, err
	}
	return d, coop, s.audit(ctx, user, bookingAudit(auditReadCoopBooking, d.BookingView, "", nil))
}

func (s *server) getCoopBooking(c *gin.Context) error {
	d, _, err := s.coopBooking(c.Request.Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, d)
	return nil
}

func bookingAudit(action string, b store.BookingView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["booking_id"] = b.ID
	detail["booking_number"] = b.Number
	return store.AuditEntry{Action: action, Municipality: b.MunicipalityID, Reason: reason, Detail: auditDetail(detail)}
}

// bookingUpdate sends an update to a booking's workflow. A refusal with a
// field problem is a 422 at that field; a finished workflow is a 409.
func (s *server) bookingUpdate(ctx context.Context, b store.BookingView, name, id string, arg any) (workflows.BookingUpdateResult, error) {
	var res workflows.BookingUpdateResult
	err := s.updateWorkflow(ctx, workflows.BookingWorkflowID(b.ID), name, id, arg, &res)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return res, &httpError{status: http.StatusConflict, code: "booking_closed",
			message: "the booking is " + strings.ReplaceAll(b.Status, "_", " ") + " and takes no more changes", cause: err}
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == workflows.ErrTypeBookingInvalidData {
		f := app.DecisionField(ae)
		f.Code = "invalid"
		return res, &httpError{status: http.StatusUnprocessableEntity, code: "validation", message: f.Message,
			fields: []FieldError{f}, cause: err}
	}
	return res, err
}

// respondRequest is a cooperative's answer: accept with one date per
// session (RFC 3339), or decline with a reason.
type respondRequest struct {
	Accept   *bool       `json:"accept"`
	Reason   string      `json:"reason"`
	Sessions []time.Time `json:"sessions"`
}

func (req respondRequest) validate() []FieldError {
	var fields []FieldError
	switch {
	case req.Accept == nil:
		fields = append(fields, field("/accept", "required", "say whether you accept the booking", "indicare se si accetta la prenotazione"))
	case *req.Accept && len(req.Sessions) == 0:
		fields = append(fields, field("/sessions", "required", "give one date per session", "indicare una data per ogni sessione"))
	case !*req.Accept && strings.TrimSpace(req.Reason) == "":
		fields = append(fields, field("/reason", "required", "a reason is required to decline", "indicare il motivo del rifiuto"))
	}
	if utf8.RuneCountInString(req.Reason) > 1000 {
		fields = append(fields, field("/reason", "too_long", "the reason may be at most 1000 characters",
			"il motivo può avere al massimo 1000 caratteri"))
	}
	return fields
}

// respondBooking answers a request pending on the user's cooperative.
func (s *server) respondBooking(ctx context.Context, user store.UserView, id string, req respondRequest, key string) (workflows.BookingUpdateResult, error) {
	if fields := req.validate(); len(fields) > 0 {
		return workflows.BookingUpdateResult{}, invalid(fields...)
	}
	d, coop, err := s.coopBooking(ctx, user, id)
	if err != nil {
		return workflows.BookingUpdateResult{}, err
	}
	var res workflows.BookingUpdateResult
	detail := map[string]any{"accept": *req.Accept, "sessions": len(req.Sessions)}
	err = s.audited(ctx, user, bookingAudit(auditRespondBooking, d.BookingView, strings.TrimSpace(req.Reason), detail), func() error {
		res, err = s.bookingUpdate(ctx, d.BookingView, workflows.UpdateBookingRespond, userUpdateID(user, "respond:"+d.ID, key),
			workflows.BookingRespondInput{Actor: actor(user), CooperativeID: coop, Accept: *req.Accept,
				Reason: strings.TrimSpace(req.Reason), Sessions: req.Sessions})
		return err
	})
	return res, err
}

// deliveryRequest records one delivered session.
type deliveryRequest struct {
	Seq         int        `json:"seq"`
	DeliveredAt *time.Time `json:"delivered_at"`
	Note        string     `json:"note"`
}

func (req deliveryRequest) validate() []FieldError {
	var fields []FieldError
	if req.Seq < 1 {
		fields = append(fields, field("/seq", "required", "say which session was delivered", "indicare quale sessione è stata svolta"))
	}
	if req.DeliveredAt == nil {
		fields = append(fields, field("/delivered_at", "required", "the delivery date is required", "indicare la data della sessione svolta"))
	}
	if utf8.RuneCountInString(req.Note) > 2000 {
		fields = append(fields, field("/note", "too_long", "the note may be at most 2000 characters", "la nota può avere al massimo 2000 caratteri"))
	}
	return fields
}

// recordDelivery records a delivered session of a booking the user's
// cooperative holds.
func (s *server) recordDelivery(ctx context.Context, user store.UserView, id string, req deliveryRequest, key string) (workflows.BookingUpdateResult, error) {
	if fields := req.validate(); len(fields) > 0 {
		return workflows.BookingUpdateResult{}, invalid(fields...)
	}
	d, coop, err := s.coopBooking(ctx, user, id)
	if err != nil {
		return workflows.BookingUpdateResult{}, err
	}
	var res workflows.BookingUpdateResult
	detail := map[string]any{"seq": req.Seq, "delivered_at": req.DeliveredAt.UTC().Format(time.RFC3339)}
	err = s.audited(ctx, user, bookingAudit(auditRecordDelivery, d.BookingView, "", detail), func() error {
		res, err = s.bookingUpdate(ctx, d.BookingView, workflows.UpdateBookingRecordDelivery,
			userUpdateID(user, fmt.Sprintf("delivery:%s:%d", d.ID, req.Seq), key),
			workflows.BookingDeliveryInput{Actor: actor(user), CooperativeID: coop, Seq: req.Seq, DeliveredAt: *req.DeliveredAt,
				Note: strings.TrimSpace(req.Note)})
		return err
	})
	return res, err
}

// jsonAction adapts a domain action on the resource :id to a JSON handler:
// the body decoded into its request, the Idempotency-Key as the update key,
// its result as 200.
func jsonAction[Req, Res any](do func(ctx context.Context, user store.UserView, id string, req Req, key string) (Res, error)) func(*gin.Context) error {
	return func(c *gin.Context) error {
		var req Req
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		res, err := do(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, res)
		return nil
	}
}

// updateWorkflow sends an update to a workflow and waits for its result
// (within updateTimeout).
func (s *server) updateWorkflow(ctx context.Context, workflowID, name, id string, arg, out any) error {
	if s.Temporal == nil {
		return errors.New("no Temporal client")
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{UpdateID: id, WorkflowID: workflowID,
		UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}
