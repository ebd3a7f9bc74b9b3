package contract

// Workflow and schedule ids from business keys: one case, booking,
// appointment or absence, one workflow, whatever the number of clicks or
// retries that started it.

// CaseWorkflowPrefix starts the workflow id of every case (the store writes
// it next to the case id drawn in SQL).
const CaseWorkflowPrefix = "case:"

// CaseWorkflowID is the workflow id of a case.
func CaseWorkflowID(caseID string) string { return CaseWorkflowPrefix + caseID }

// BookingWorkflowID is the workflow id of a booking.
func BookingWorkflowID(bookingID string) string { return "booking:" + bookingID }

// AppointmentWorkflowID is the workflow id of an appointment.
func AppointmentWorkflowID(appointmentID string) string { return "appointment:" + appointmentID }

// AbsenceWorkflowID is the workflow id of an absence's delegation.
func AbsenceWorkflowID(absenceID string) string { return "absence:" + absenceID }

// LedgerScheduleID is the id of the nightly ledger check's schedule.
const LedgerScheduleID = "ledger-verify"

// CompanyStatementsScheduleID is the id of the companies' monthly statements' schedule.
const CompanyStatementsScheduleID = "company-statements"

// BillingScheduleID is the id of the monthly schedule of a payee and a
// municipality: "billing:cooperative:<c>:<m>" or "billing:merchant:<m>:<m>".
func BillingScheduleID(kind, payee, municipality string) string {
	return "billing:" + kind + ":" + payee + ":" + municipality
}

// CallFundingWorkflowID is the workflow id of a call's funding: one
// commitment of its budget, one booking, whatever the number of clicks.
func CallFundingWorkflowID(callID string) string { return "call-funding:" + callID }

// CallFundingInput names the call the CallFunding workflow funds. Its JSON
// names are recorded in histories: never rename one.
type CallFundingInput struct {
	CallID string `json:"CallID"`
}

// CancelPublicationInput is the argument of the CallFunding workflow's
// update UpdateCancelPublication: who withdraws the publication. Its JSON
// names are recorded in histories: never rename one.
type CancelPublicationInput struct {
	Actor string `json:"Actor"`
}
