package marketplace

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/app"
	"sportello/internal/store"
	"sportello/workflows"
)

// The bookings (issue 5): the citizen's (read, cancel what is not
// delivered, confirm delivered sessions) and the cooperative's inbox (the
// requests pending on it with their deadline, the bookings it holds, its
// deliveries; it accepts a request with one date per session or declines
// it with a reason, and records each delivered session). Every change goes
// through the booking's workflow (a Temporal Update with a validator);
// every read and action of a cooperative is audited with the booking id in
// the detail.

// Audit actions on bookings.
const (
	AuditReadCoopBooking    = "read_coop_booking"
	AuditRespondBooking     = "respond_booking"
	AuditRecordDelivery     = "record_delivery"
	AuditReadCoopDeliveries = "read_coop_deliveries"
)

// ---- the citizen's bookings ----

// Bookings lists a page of the citizen user's bookings, with their total.
func (s Service) Bookings(ctx context.Context, user store.UserView, limit, offset int) ([]store.BookingView, int, error) {
	return s.API.Bookings(ctx, user.Scope(), limit, offset)
}

// Booking reads a booking visible to user (not found otherwise).
func (s Service) Booking(ctx context.Context, user store.UserView, id string) (store.BookingView, error) {
	b, err := s.API.Booking(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return b, app.Missing("booking")
	}
	return b, err
}

// CancelInput is the citizen's cancellation of a booking.
type CancelInput struct {
	Reason string `json:"reason"`
}

// Cancel cancels what is not delivered of a booking of the citizen user
// and returns the booking as it is now.
func (s Service) Cancel(ctx context.Context, user store.UserView, id string, in CancelInput, key string) (store.BookingView, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if utf8.RuneCountInString(in.Reason) > 1000 {
		return store.BookingView{}, app.InvalidInput(app.Field("/reason", "too_long", "marketplace.err.reason_too_long"))
	}
	b, err := s.Booking(ctx, user, id)
	if err != nil {
		return b, err
	}
	if _, err := s.bookingUpdate(ctx, b, workflows.UpdateBookingCancel, app.UpdateID(user, "cancel-booking:"+b.ID, key),
		workflows.BookingCancelInput{Actor: app.Actor(user), Reason: in.Reason}); err != nil {
		return b, err
	}
	return s.Booking(ctx, user, id)
}

// ConfirmInput names the delivered sessions the citizen confirms.
type ConfirmInput struct {
	Seqs []int `json:"seqs"`
}

// ConfirmDelivery confirms delivered sessions of a booking of the citizen
// user and returns the booking as it is now.
func (s Service) ConfirmDelivery(ctx context.Context, user store.UserView, id string, in ConfirmInput, key string) (store.BookingView, error) {
	b, err := s.Booking(ctx, user, id)
	if err != nil {
		return b, err
	}
	if len(in.Seqs) == 0 {
		return b, app.InvalidInput(app.Field("/seqs", "required", "marketplace.err.seqs_required"))
	}
	seen := map[int]bool{}
	var fields []app.FieldError
	for i, q := range in.Seqs {
		if q < 1 || q > len(b.Sessions) || seen[q] {
			fields = append(fields, app.Field("/seqs/"+strconv.Itoa(i), "invalid",
				"marketplace.err.session_not_in_booking"))
		}
		seen[q] = true
	}
	if len(fields) > 0 {
		return b, app.InvalidInput(fields...)
	}
	if _, err := s.bookingUpdate(ctx, b, workflows.UpdateBookingConfirmDelivery, app.UpdateID(user, "confirm-delivery:"+b.ID, key),
		workflows.BookingConfirmInput{Actor: app.Actor(user), Seqs: in.Seqs}); err != nil {
		return b, err
	}
	return s.Booking(ctx, user, id)
}

// bookingUpdate sends an update to a booking's workflow. A refusal with a
// field problem is Invalid at that field; a finished workflow is the
// Conflict "booking_closed".
func (s Service) bookingUpdate(ctx context.Context, b store.BookingView, name, id string, arg any) (workflows.BookingUpdateResult, error) {
	var res workflows.BookingUpdateResult
	err := s.UpdateWorkflow(ctx, workflows.BookingWorkflowID(b.ID), name, id, &res, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return res, &app.Error{Kind: app.Conflict, Code: "booking_closed",
			Message: "the booking is " + strings.ReplaceAll(b.Status, "_", " ") + " and takes no more changes", Cause: err}
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == workflows.ErrTypeBookingInvalidData {
		f := app.DecisionField(ae)
		f.Code = "invalid"
		e := app.InvalidInput(f)
		e.Cause = err
		return res, e
	}
	return res, err
}

// ---- the cooperative's bookings ----

// CoopBookings lists one view of the cooperative's inbox
// (store.CoopRequests or store.CoopActive), audited.
func (s Service) CoopBookings(ctx context.Context, user store.UserView, view string) ([]store.CoopBookingItem, error) {
	if view != store.CoopRequests && view != store.CoopActive {
		return nil, app.InvalidInput(app.Param("view", "invalid", "marketplace.err.view_invalid"))
	}
	items, err := s.API.CoopBookings(ctx, user.Scope(), view)
	if err != nil {
		return nil, err
	}
	return items, s.Audit(ctx, user, store.AuditEntry{Action: AuditReadCoopBooking,
		Detail: app.AuditDetail(map[string]any{"view": view, "count": len(items)})})
}

// CoopDeliveries lists the sessions the cooperative delivered, audited.
func (s Service) CoopDeliveries(ctx context.Context, user store.UserView) ([]store.CoopDelivery, error) {
	items, err := s.API.CoopDeliveries(ctx, user.Scope())
	if err != nil {
		return nil, err
	}
	return items, s.Audit(ctx, user, store.AuditEntry{Action: AuditReadCoopDeliveries,
		Detail: app.AuditDetail(map[string]any{"count": len(items)})})
}

// CoopBooking reads a booking for the cooperative user's cooperative (not
// found otherwise), audited.
func (s Service) CoopBooking(ctx context.Context, user store.UserView, id string) (store.CoopBookingDetail, error) {
	d, _, err := s.coopBooking(ctx, user, id)
	return d, err
}

// coopBooking is CoopBooking with the cooperative's id.
func (s Service) coopBooking(ctx context.Context, user store.UserView, id string) (store.CoopBookingDetail, string, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.CoopBookingDetail{}, "", app.Missing("booking")
	}
	coop, err := s.API.UserCooperative(ctx, user.ID)
	if err != nil {
		return store.CoopBookingDetail{}, "", err
	}
	d, err := s.API.CoopBooking(ctx, user.Scope(), coop, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, coop, app.Missing("booking")
	}
	if err != nil {
		return d, coop, err
	}
	return d, coop, s.Audit(ctx, user, bookingAudit(AuditReadCoopBooking, d.BookingView, "", nil))
}

func bookingAudit(action string, b store.BookingView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["booking_id"] = b.ID
	detail["booking_number"] = b.Number
	return store.AuditEntry{Action: action, Municipality: b.MunicipalityID, Reason: reason, Detail: app.AuditDetail(detail)}
}

// Response is a cooperative's answer to a booking request: accept with one
// date per session (RFC 3339), or decline with a reason.
type Response struct {
	Accept   *bool       `json:"accept"`
	Reason   string      `json:"reason"`
	Sessions []time.Time `json:"sessions"`
}

// Validate checks what does not depend on the booking.
func (r Response) Validate() []app.FieldError {
	var fields []app.FieldError
	switch {
	case r.Accept == nil:
		fields = append(fields, app.Field("/accept", "required", "marketplace.err.accept_required"))
	case *r.Accept && len(r.Sessions) == 0:
		fields = append(fields, app.Field("/sessions", "required", "marketplace.err.sessions_required"))
	case !*r.Accept && strings.TrimSpace(r.Reason) == "":
		fields = append(fields, app.Field("/reason", "required", "marketplace.err.reason_required"))
	}
	if utf8.RuneCountInString(r.Reason) > 1000 {
		fields = append(fields, app.Field("/reason", "too_long", "marketplace.err.reason_too_long"))
	}
	return fields
}

// Respond answers a request pending on the cooperative user's cooperative.
func (s Service) Respond(ctx context.Context, user store.UserView, id string, r Response, key string) (workflows.BookingUpdateResult, error) {
	return s.coopUpdate(ctx, user, id, key, r.Validate(), func(d store.CoopBookingDetail, coop string) coopStep {
		reason := strings.TrimSpace(r.Reason)
		return coopStep{name: workflows.UpdateBookingRespond, idKey: "respond:" + d.ID,
			arg: workflows.BookingRespondInput{Actor: app.Actor(user), CooperativeID: coop, Accept: *r.Accept,
				Reason: reason, Sessions: r.Sessions},
			action: AuditRespondBooking, reason: reason, detail: map[string]any{"accept": *r.Accept, "sessions": len(r.Sessions)}}
	})
}

// coopStep is one update a cooperative sends to a booking it holds: the
// update's name, the part of its id the caller's idempotency key completes,
// its argument, and the audit row's action, reason and detail.
type coopStep struct {
	name, idKey    string
	arg            any
	action, reason string
	detail         map[string]any
}

// coopUpdate sends, audited, the update step makes for the booking id held
// by the cooperative user's cooperative, once the request has no problems
// of its own (fields).
func (s Service) coopUpdate(ctx context.Context, user store.UserView, id, key string, fields []app.FieldError,
	step func(d store.CoopBookingDetail, coop string) coopStep) (workflows.BookingUpdateResult, error) {
	if len(fields) > 0 {
		return workflows.BookingUpdateResult{}, app.InvalidInput(fields...)
	}
	d, coop, err := s.coopBooking(ctx, user, id)
	if err != nil {
		return workflows.BookingUpdateResult{}, err
	}
	st := step(d, coop)
	var res workflows.BookingUpdateResult
	err = s.Audited(ctx, user, bookingAudit(st.action, d.BookingView, st.reason, st.detail), func() error {
		res, err = s.bookingUpdate(ctx, d.BookingView, st.name, app.UpdateID(user, st.idKey, key), st.arg)
		return err
	})
	return res, err
}

// Delivery records one delivered session.
type Delivery struct {
	Seq         int        `json:"seq"`
	DeliveredAt *time.Time `json:"delivered_at"`
	Note        string     `json:"note"`
}

// Validate checks what does not depend on the booking.
func (d Delivery) Validate() []app.FieldError {
	var fields []app.FieldError
	if d.Seq < 1 {
		fields = append(fields, app.Field("/seq", "required", "marketplace.err.seq_required"))
	}
	if d.DeliveredAt == nil {
		fields = append(fields, app.Field("/delivered_at", "required", "marketplace.err.delivered_at_required"))
	}
	if utf8.RuneCountInString(d.Note) > 2000 {
		fields = append(fields, app.Field("/note", "too_long", "marketplace.err.note_too_long"))
	}
	return fields
}

// RecordDelivery records a delivered session of a booking the cooperative
// user's cooperative holds.
func (s Service) RecordDelivery(ctx context.Context, user store.UserView, id string, in Delivery, key string) (workflows.BookingUpdateResult, error) {
	return s.coopUpdate(ctx, user, id, key, in.Validate(), func(d store.CoopBookingDetail, coop string) coopStep {
		return coopStep{name: workflows.UpdateBookingRecordDelivery, idKey: fmt.Sprintf("delivery:%s:%d", d.ID, in.Seq),
			arg: workflows.BookingDeliveryInput{Actor: app.Actor(user), CooperativeID: coop, Seq: in.Seq, DeliveredAt: *in.DeliveredAt,
				Note: strings.TrimSpace(in.Note)},
			action: AuditRecordDelivery, detail: map[string]any{"seq": in.Seq, "delivered_at": in.DeliveredAt.UTC().Format(time.RFC3339)}}
	})
}
