package contract

// Application error types: the Type of the Temporal application errors that
// workflows, their update validators and activities return. Callers tell
// refusals apart by them (the API maps them to HTTP statuses), and workflows
// name some of them as non-retryable, so they are part of the contract with
// running workflows: never rename one.

// Errors of the case workflow (food voucher) and its activities.
const (
	ErrTypeTaskNotOpen        = "TaskNotOpen"        // 409: the task is closed, decided, or not the current one
	ErrTypeNotClaimed         = "NotClaimed"         // 409: decision or release by someone who has not claimed the task
	ErrTypeAlreadyClaimed     = "AlreadyClaimed"     // 409: claim on a task claimed by another worker
	ErrTypeInvalidDecision    = "InvalidDecision"    // 422: bad outcome, amount or missing reason
	ErrTypeInsufficientBudget = "InsufficientBudget" // 409: the fund cannot cover the award
	ErrTypeNotAwaitingInfo    = "NotAwaitingInfo"    // 409: no request for information is pending
	ErrTypeForbidden          = "Forbidden"          // 403: actor may not do this on this case
	ErrTypeOutOfOffice        = "OutOfOffice"        // 409: a claim by someone out of office
)

// Errors of the appointment workflow and its activities.
const (
	ErrTypeAppointmentClosed  = "AppointmentClosed"  // 409: already cancelled, attended or closed
	ErrTypeAppointmentStarted = "AppointmentStarted" // 409: too late to cancel
	ErrTypeAppointmentNotYet  = "AppointmentNotYet"  // 409: attendance before the appointment's day
)

// Errors of the booking workflow (the API maps them to 409 for the state,
// 422 for the input) and of its activities.
const (
	ErrTypeBookingClosed      = "BookingClosed"      // 409: completed or cancelled
	ErrTypeBookingNotYours    = "BookingNotYours"    // 409: the cooperative does not hold the request
	ErrTypeBookingWrongState  = "BookingWrongState"  // 409: e.g. delivery before confirmation
	ErrTypeBookingInvalidData = "BookingInvalidData" // 422: e.g. session dates missing or in the past

	ErrTypeBookingNotFound   = "BookingNotFound"
	ErrTypePaymentsDisabled  = "PaymentsDisabled"
	ErrTypePaymentRefused    = "PaymentRefused"
	ErrTypeBookingLedger     = "BookingLedger"
	ErrTypeBookingPaymentBad = "BookingPaymentMismatch"
	// ErrTypePaymentUnconfirmed: the provider does not confirm the payment
	// claimed (not captured, another booking's, another amount).
	ErrTypePaymentUnconfirmed = "PaymentUnconfirmed"
)

// Errors of the billing activities (non-retryable: retrying the same call
// cannot help).
const (
	ErrTypeAccountingRejected = "AccountingRejected"
	ErrTypeInvoiceState       = "InvoiceState"
)

// ErrTypeAbsenceOver refuses a change to an absence that has ended (the
// delegation workflow).
const ErrTypeAbsenceOver = "AbsenceOver"

// ErrTypeLedgerViolated is the failure of a ledger check that found a
// broken invariant: the run fails, visibly, with the report as details.
const ErrTypeLedgerViolated = "LedgerViolated"

// ErrTypeCallFundingState: a call's funding cannot go on (the call is not
// being published, or the commitment is not of its budget); retrying the
// same step cannot help (the CallFunding workflow).
const ErrTypeCallFundingState = "CallFundingState"

// ErrTypePublicationNotCancellable refuses the withdrawal of a call's
// publication whose CallFunding run started before a publication could be
// withdrawn (docs/operations.md says what an operator does).
const ErrTypePublicationNotCancellable = "PublicationNotCancellable"
