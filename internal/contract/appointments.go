package contract

import "time"

// Appointment statuses (appointments.status), kept by the appointment
// workflow.
const (
	AppointmentBooked      = "booked"
	AppointmentAttended    = "attended"
	AppointmentNotAttended = "not_attended"
	AppointmentCancelled   = "cancelled"
	AppointmentNoShow      = "no_show"
)

// PersonalPlan is what an operator writes after meeting a citizen. Its JSON
// names are stored in appointments.plan and recorded in appointment
// histories: never rename one.
type PersonalPlan struct {
	Needs     string `json:"needs"`
	Services  string `json:"services"`
	NextSteps string `json:"next_steps"`
	Notes     string `json:"notes"`
}

// Empty reports a plan with nothing written.
func (p PersonalPlan) Empty() bool { return p == PersonalPlan{} }

// CloseAppointmentInput closes a booking: cancelled (Reason), attended or
// not attended (Plan, optional), or no-show. The JSON names are the Go
// names it was first recorded under.
type CloseAppointmentInput struct {
	ID     string        `json:"ID"`
	Status string        `json:"Status"`
	By     string        `json:"By"` // username, "system" for a no-show
	Reason string        `json:"Reason"`
	Plan   *PersonalPlan `json:"Plan"`
	At     time.Time     `json:"At"`
}
