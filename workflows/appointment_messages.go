package workflows

import (
	"time"

	"sportello/internal/contract"
)

// Update names of the appointment workflow (part of the contract with
// running workflows: never rename one). Its state answers QueryState.
const (
	UpdateRecordAttendance = contract.UpdateRecordAttendance
	UpdateCancel           = contract.UpdateCancel
)

// Application error types of the appointment workflow; the API maps them to
// HTTP statuses (409 for the state errors).
const (
	ErrTypeAppointmentClosed  = contract.ErrTypeAppointmentClosed  // 409: already cancelled, attended or closed
	ErrTypeAppointmentStarted = contract.ErrTypeAppointmentStarted // 409: too late to cancel
	ErrTypeAppointmentNotYet  = contract.ErrTypeAppointmentNotYet  // 409: attendance before the appointment's day
)

// Appointment statuses, mirrored in the appointments table.
const (
	AppointmentBooked      = contract.AppointmentBooked
	AppointmentAttended    = contract.AppointmentAttended
	AppointmentNotAttended = contract.AppointmentNotAttended
	AppointmentCancelled   = contract.AppointmentCancelled
	AppointmentNoShow      = contract.AppointmentNoShow
)

// AppointmentWorkflowID is the workflow id of an appointment: one
// appointment, one workflow.
func AppointmentWorkflowID(appointmentID string) string {
	return contract.AppointmentWorkflowID(appointmentID)
}

// AppointmentInput starts the workflow of a booking the API already wrote.
type AppointmentInput struct {
	AppointmentID string    `json:"appointment_id"`
	PointID       string    `json:"point_id"`
	CitizenID     int64     `json:"citizen_id"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
}

// AppointmentResult is how an appointment ended.
type AppointmentResult struct {
	Status   string `json:"status"`
	Reminded bool   `json:"reminded"`
}

// PersonalPlan is what the operator writes after meeting the citizen.
type PersonalPlan = contract.PersonalPlan

// RecordAttendanceInput is an operator's record of the meeting.
type RecordAttendanceInput struct {
	Actor    Actor         `json:"actor"`
	Attended bool          `json:"attended"`
	Plan     *PersonalPlan `json:"plan,omitempty"`
}

// CancelAppointmentInput cancels a booking before it starts.
type CancelAppointmentInput struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}

// AppointmentUpdateResult is the appointment's status after an update.
type AppointmentUpdateResult struct {
	Status string `json:"status"`
}

// AppointmentState answers QueryState on an appointment workflow.
type AppointmentState struct {
	Status   string    `json:"status"`
	StartsAt time.Time `json:"starts_at"`
	Reminded bool      `json:"reminded"`
}
