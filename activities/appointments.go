package activities

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/outbox"
	"sportello/internal/store"
)

// Notification kinds of appointments.
const (
	KindAppointmentBooked    = notify.KindAppointmentBooked
	KindAppointmentReminder  = notify.KindAppointmentReminder
	KindAppointmentCancelled = notify.KindAppointmentCancelled
)

// Appointments groups the activities of the appointment workflow. Its
// method names differ from those of Cases: both register on one worker.
type Appointments struct {
	Store     *store.Store
	Mailer    Mailer // nil: notifications are recorded, not sent
	PortalURL string
}

// AppointmentActionInput names the appointment and the workflow time.
type AppointmentActionInput struct {
	AppointmentID string    `json:"AppointmentID"`
	At            time.Time `json:"At"`
}

// RecordBookingResult is the booking's status when the workflow took it in
// hand: "cancelled" when the API gave up on starting the workflow.
type RecordBookingResult struct {
	Status string `json:"Status"`
}

// RecordBooking takes the booking in hand (the API wrote its row).
func (a *Appointments) RecordBooking(ctx context.Context, in AppointmentActionInput) (RecordBookingResult, error) {
	v, err := a.Store.ConfirmAppointment(ctx, in.AppointmentID, in.At)
	if errors.Is(err, store.ErrNotFound) {
		return RecordBookingResult{}, temporal.NewNonRetryableApplicationError("appointment "+in.AppointmentID+" does not exist",
			"AppointmentNotFound", err)
	}
	return RecordBookingResult{Status: v.Status}, err
}

// RemindAppointment records the reminder of the day before.
func (a *Appointments) RemindAppointment(ctx context.Context, in AppointmentActionInput) error {
	return a.Store.MarkAppointmentReminded(ctx, in.AppointmentID, in.At)
}

// CloseAppointmentInput is the final status of an appointment.
type CloseAppointmentInput = contract.CloseAppointmentInput

// CloseAppointment writes the final status (cancelled, attended, not
// attended, no-show) once.
func (a *Appointments) CloseAppointment(ctx context.Context, in CloseAppointmentInput) error {
	err := a.Store.CloseAppointment(ctx, in)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return temporal.NewNonRetryableApplicationError(conflict.Message, contract.ErrTypeAppointmentClosed, err)
	}
	return err
}

// AppointmentNotifyInput is one message to the citizen of an appointment.
type AppointmentNotifyInput struct {
	Key           string         `json:"Key"` // unique per notification; the recipient is appended
	AppointmentID string         `json:"AppointmentID"`
	Kind          string         `json:"Kind"`
	Data          map[string]any `json:"Data"`
	At            time.Time      `json:"At"`
}

// NotifyAppointment tells the citizen about their appointment, once. A
// citizen without an e-mail address is left to the Social Point (a phone
// call or a letter), as for cases: the outbox records it on the
// social_point channel, and the agenda shows who has no address.
func (a *Appointments) NotifyAppointment(ctx context.Context, in AppointmentNotifyInput) error {
	v, err := a.Store.API().Appointment(ctx, store.System, in.AppointmentID)
	if err != nil {
		return err
	}
	data := map[string]any{
		"name": v.CitizenName, "portal_url": a.PortalURL, "path": "/appointments/" + v.ID,
		"point_name": v.PointName, "point_address": v.PointAddress, "starts_at": v.StartsAt, "topic": v.Topic,
	}
	maps.Copy(data, in.Data)
	return notifyCitizen(ctx, a.Store, a.Mailer, in.Key+":"+strconv.FormatInt(v.CitizenID, 10), in.Kind, v.CitizenEmail, v.CitizenName, data)
}

// notifyCitizen tells a citizen once under key: by e-mail, or, without an
// address, recorded on the social_point channel for the Social Point.
func notifyCitizen(ctx context.Context, st *store.Store, mailer Mailer, key, kind, email, name string, data map[string]any) error {
	entry := store.OutboxEntry{Key: key, Kind: kind, Channel: "email", Recipient: email, Lang: "it"}
	if email == "" {
		entry.Channel, entry.Recipient = "social_point", name
		_, err := st.BeginNotification(ctx, entry)
		return err
	}
	return outbox.SendOnce(ctx, st, mailer, entry, name, data)
}
