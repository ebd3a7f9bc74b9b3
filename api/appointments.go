package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"

	"sportello/internal/calendar"
	"sportello/internal/store"
	"sportello/workflows"
)

// Social Points and appointments (issue 4): the points and their free slots
// are public; citizens book, see and cancel their appointments; operators
// (their municipality's points) and supervisors (the district's) keep the
// agenda, cancel, and record the meeting with a personal plan. Every staff
// read and action is audited, with the appointment id in the detail.

// Audit actions on appointments.
const (
	auditReadAppointment   = "read_appointment"
	auditReadAgenda        = "read_agenda"
	auditCancelAppointment = "cancel_appointment"
	auditRecordAttendance  = "record_attendance"
)

// bookingDays is how far ahead citizens can book (today included).
const bookingDays = 28

// maxTopic bounds what a citizen writes about the appointment.
const maxTopic = 1000

var anonymous = store.Scope{Kind: "anonymous"}

func (s *server) listSocialPoints(c *gin.Context) error {
	points, err := s.api.SocialPoints(c.Request.Context(), anonymous, strings.TrimSpace(c.Query("district")))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": points})
	return nil
}

// socialPoint reads a point (404 "social point not found").
func (s *server) socialPoint(ctx context.Context, id string) (store.SocialPoint, error) {
	p, err := s.api.SocialPoint(ctx, anonymous, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, notFound("social point")
	}
	return p, err
}

// freeSlots are the point's slots from now through bookingDays, less the
// booked ones.
func (s *server) freeSlots(ctx context.Context, p store.SocialPoint) ([]store.Slot, error) {
	now := s.Now()
	all := p.Slots(now, bookingDays)
	if len(all) == 0 {
		return []store.Slot{}, nil
	}
	taken, err := s.api.TakenSlots(ctx, p.ID, all[0].StartsAt, all[len(all)-1].EndsAt)
	if err != nil {
		return nil, err
	}
	free := make([]store.Slot, 0, len(all))
	for _, sl := range all {
		if !taken[sl.StartsAt.UTC()] {
			free = append(free, sl)
		}
	}
	return free, nil
}

func (s *server) listSlots(c *gin.Context) error {
	p, err := s.socialPoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	slots, err := s.freeSlots(c.Request.Context(), p)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"point": p, "items": slots})
	return nil
}

type bookingRequest struct {
	PointID  string `json:"point_id"`
	StartsAt string `json:"starts_at"`
	Topic    string `json:"topic"`
}

func (s *server) createAppointment(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req bookingRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, replayed, err := s.book(c.Request.Context(), currentUser(c), req, key)
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/appointments/"+url.PathEscape(v.ID))
	c.JSON(http.StatusCreated, v)
	return nil
}

// book checks a booking against the point's free slots and writes it for
// user, then starts its workflow. Field problems are a 422 on /point_id,
// /starts_at or /topic; a slot taken meanwhile or too many future bookings
// are a 409. The JSON handler and the booking page share it.
func (s *server) book(ctx context.Context, user store.UserView, req bookingRequest, key string) (store.AppointmentView, bool, error) {
	var fields []FieldError
	req.PointID, req.Topic = strings.TrimSpace(req.PointID), strings.TrimSpace(req.Topic)
	if req.PointID == "" {
		fields = append(fields, field("/point_id", "required", "choose a Social Point", "scegliere un Social Point"))
	}
	startsAt, perr := time.Parse(time.RFC3339, strings.TrimSpace(req.StartsAt))
	if perr != nil {
		fields = append(fields, field("/starts_at", "required", "choose a time slot", "scegliere un orario"))
	}
	if utf8.RuneCountInString(req.Topic) > maxTopic {
		fields = append(fields, field("/topic", "too_long", "the topic may be at most 1000 characters",
			"l'argomento può avere al massimo 1000 caratteri"))
	}
	if len(fields) > 0 {
		return store.AppointmentView{}, false, invalid(fields...)
	}
	p, err := s.socialPoint(ctx, req.PointID)
	if he := (*httpError)(nil); errors.As(err, &he) && he.status == http.StatusNotFound {
		return store.AppointmentView{}, false, invalid(field("/point_id", "unknown", "there is no such Social Point",
			"questo Social Point non esiste"))
	}
	if err != nil {
		return store.AppointmentView{}, false, err
	}
	if p.District != user.District {
		return store.AppointmentView{}, false, invalid(field("/point_id", "other_district",
			"this Social Point serves another district", "questo Social Point serve un altro ambito"))
	}
	var slot *store.Slot
	for _, sl := range p.Slots(s.Now(), bookingDays) {
		if sl.StartsAt.Equal(startsAt) {
			slot = &sl
			break
		}
	}
	if slot == nil {
		return store.AppointmentView{}, false, invalid(field("/starts_at", "not_a_slot",
			"the point has no bookable slot at that time (past, closed, a holiday or more than 4 weeks ahead)",
			"a quell'ora il Social Point non ha orari prenotabili (passato, chiuso, festivo o oltre 4 settimane)"))
	}
	v, replayed, err := s.api.BookAppointment(ctx, user.Scope(), store.BookInput{ID: uuid.NewString(), PointID: p.ID,
		CitizenID: user.ID, StartsAt: slot.StartsAt, EndsAt: slot.EndsAt, Topic: req.Topic, IdempotencyKey: key, Now: s.Now()})
	if err != nil {
		return v, false, err
	}
	if err := s.startAppointment(ctx, v); err != nil {
		// Free the slot: a workflow that did start after all finds the
		// booking withdrawn and ends without a word to the citizen.
		if cerr := s.Store.CloseAppointment(context.WithoutCancel(ctx), store.CloseAppointmentInput{ID: v.ID,
			Status: store.AppointmentCancelled, By: "system", Reason: "the booking could not be confirmed", At: s.Now()}); cerr != nil {
			s.log.WarnContext(ctx, "withdraw unstarted booking", "appointment_id", v.ID, "err", cerr)
		}
		return v, false, err
	}
	return v, replayed, nil
}

// startAppointment starts the workflow of a booking (once, whatever the retries).
func (s *server) startAppointment(ctx context.Context, v store.AppointmentView) error {
	return s.startOnce(ctx, workflows.AppointmentWorkflowID(v.ID), workflows.Appointment, workflows.AppointmentInput{
		AppointmentID: v.ID, PointID: v.PointID, CitizenID: v.CitizenID, StartsAt: v.StartsAt, EndsAt: v.EndsAt})
}

// agendaFilter reads from/to (YYYY-MM-DD, Rome days; default: today and
// the next 6 days), point_id and status.
func agendaFilter(c *gin.Context, now time.Time) (store.AppointmentFilter, []FieldError) {
	var fields []FieldError
	today := dayOf(now)
	f := store.AppointmentFilter{From: today, To: today.AddDate(0, 0, 7), PointID: strings.TrimSpace(c.Query("point_id"))}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		v := strings.TrimSpace(c.Query(name))
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, v, romeLoc())
		if err != nil {
			fields = append(fields, param(name, "invalid", name+" must be a date (YYYY-MM-DD)", name+" deve essere una data (AAAA-MM-GG)"))
			continue
		}
		if name == "to" {
			d = d.AddDate(0, 0, 1) // inclusive
		}
		*dst = d
	}
	switch st := c.Query("status"); st {
	case "", store.AppointmentBooked, store.AppointmentAttended, store.AppointmentNotAttended, store.AppointmentCancelled,
		store.AppointmentNoShow:
		f.Status = st
	default:
		fields = append(fields, param("status", "invalid", "status must be booked, attended, not_attended, cancelled or no_show",
			"status deve essere booked, attended, not_attended, cancelled o no_show"))
	}
	return f, fields
}

func (s *server) listAppointments(c *gin.Context) error {
	ctx := c.Request.Context()
	user := currentUser(c)
	var f store.AppointmentFilter
	if isStaff(user.Role) {
		var fields []FieldError
		if f, fields = agendaFilter(c, s.Now()); len(fields) > 0 {
			return invalid(fields...)
		}
	}
	items, err := s.api.Appointments(ctx, user.Scope(), f)
	if err != nil {
		return err
	}
	if err := s.auditAgenda(ctx, user, f, len(items)); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// auditAgenda records a staff member's read of the agenda.
func (s *server) auditAgenda(ctx context.Context, user store.UserView, f store.AppointmentFilter, n int) error {
	return s.auditRead(ctx, user, auditReadAgenda, "", user.Municipality, map[string]any{
		"from": f.From.Format(time.DateOnly), "to": f.To.Format(time.DateOnly), "point_id": f.PointID, "count": n})
}

// appointmentFor reads an appointment visible to user (404 otherwise); a
// staff read is audited.
func (s *server) appointmentFor(ctx context.Context, user store.UserView, id string) (store.AppointmentView, error) {
	if _, err := uuid.Parse(id); err != nil {
		return store.AppointmentView{}, notFound("appointment")
	}
	v, err := s.api.Appointment(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFound("appointment")
	}
	if err != nil {
		return v, err
	}
	return v, s.auditRead(ctx, user, auditReadAppointment, "", v.Municipality, map[string]any{"appointment_id": v.ID})
}

func (s *server) getAppointment(c *gin.Context) error {
	v, err := s.appointmentFor(c.Request.Context(), currentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// appointmentUpdate sends an update to the appointment's workflow; a
// finished workflow is a 409.
func (s *server) appointmentUpdate(ctx context.Context, v store.AppointmentView, name, id string, arg any) (workflows.AppointmentUpdateResult, error) {
	var res workflows.AppointmentUpdateResult
	err := s.updateWorkflow(ctx, workflows.AppointmentWorkflowID(v.ID), name, id, arg, &res)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return res, &httpError{status: http.StatusConflict, code: "appointment_closed",
			message: "the appointment is " + strings.ReplaceAll(v.Status, "_", " "), cause: err}
	}
	return res, err
}

func appointmentAudit(action string, v store.AppointmentView, reason string, detail map[string]any) store.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["appointment_id"] = v.ID
	return store.AuditEntry{Action: action, Municipality: v.Municipality, Reason: reason, Detail: auditDetail(detail)}
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

// cancelAppointment cancels an appointment visible to user, with a reason.
func (s *server) cancelAppointment(ctx context.Context, user store.UserView, id string, req cancelRequest, key string) (workflows.AppointmentUpdateResult, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return workflows.AppointmentUpdateResult{}, invalid(field("/reason", "required", "a reason is required", "indicare il motivo"))
	}
	if utf8.RuneCountInString(req.Reason) > 1000 {
		return workflows.AppointmentUpdateResult{}, invalid(field("/reason", "too_long",
			"the reason may be at most 1000 characters", "il motivo può avere al massimo 1000 caratteri"))
	}
	v, err := s.appointmentFor(ctx, user, id)
	if err != nil {
		return workflows.AppointmentUpdateResult{}, err
	}
	var res workflows.AppointmentUpdateResult
	err = s.audited(ctx, user, appointmentAudit(auditCancelAppointment, v, req.Reason, nil), func() error {
		res, err = s.appointmentUpdate(ctx, v, workflows.UpdateCancel, userUpdateID(user, "cancel:"+v.ID, key),
			workflows.CancelAppointmentInput{Actor: actor(user), Reason: req.Reason})
		return err
	})
	return res, err
}

func (s *server) cancelAppointmentJSON(c *gin.Context) error {
	var req cancelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.cancelAppointment(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

type attendanceRequest struct {
	Attended *bool                   `json:"attended"`
	Plan     *workflows.PersonalPlan `json:"plan"`
}

// planFields are the plan's fields with their pointers.
func planFields(p *workflows.PersonalPlan) []struct{ Pointer, Value string } {
	if p == nil {
		return nil
	}
	return []struct{ Pointer, Value string }{
		{"/plan/needs", p.Needs}, {"/plan/services", p.Services}, {"/plan/next_steps", p.NextSteps}, {"/plan/notes", p.Notes},
	}
}

func (req attendanceRequest) validate() []FieldError {
	var fields []FieldError
	if req.Attended == nil {
		fields = append(fields, field("/attended", "required", "say whether the citizen came", "indicare se il cittadino si è presentato"))
	}
	for _, f := range planFields(req.Plan) {
		if utf8.RuneCountInString(f.Value) > 4000 {
			fields = append(fields, field(f.Pointer, "too_long", "at most 4000 characters", "al massimo 4000 caratteri"))
		}
	}
	return fields
}

// recordAttendance records the meeting of an appointment visible to user.
func (s *server) recordAttendance(ctx context.Context, user store.UserView, id string, req attendanceRequest, key string) (workflows.AppointmentUpdateResult, error) {
	if fields := req.validate(); len(fields) > 0 {
		return workflows.AppointmentUpdateResult{}, invalid(fields...)
	}
	v, err := s.appointmentFor(ctx, user, id)
	if err != nil {
		return workflows.AppointmentUpdateResult{}, err
	}
	var res workflows.AppointmentUpdateResult
	detail := map[string]any{"attended": *req.Attended, "plan": req.Plan != nil && !req.Plan.Empty()}
	err = s.audited(ctx, user, appointmentAudit(auditRecordAttendance, v, "", detail), func() error {
		res, err = s.appointmentUpdate(ctx, v, workflows.UpdateRecordAttendance, userUpdateID(user, "attendance:"+v.ID, key),
			workflows.RecordAttendanceInput{Actor: actor(user), Attended: *req.Attended, Plan: req.Plan})
		return err
	})
	return res, err
}

func (s *server) recordAttendanceJSON(c *gin.Context) error {
	var req attendanceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.recordAttendance(c.Request.Context(), currentUser(c), c.Param("id"), req, updateKey(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, res)
	return nil
}

// romeLoc and dayOf: the agenda's days are Rome days.
func romeLoc() *time.Location { return calendar.Rome() }

func dayOf(t time.Time) time.Time {
	r := t.In(romeLoc())
	return time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, romeLoc())
}
