package contract

// TaskQueue is the task queue every Sportello worker polls.
const TaskQueue = "sportello-cases"

// Workflow type names that callers start by name.
const (
	// BookingWorkflowName is the type name the Booking workflow is
	// registered under; the API starts it by this name.
	BookingWorkflowName = "Booking"
)

// Update, query and signal names of the workflows. Callers use them to talk
// to a running workflow; they are part of the contract with running
// workflows, so never rename one.

// The case workflow (food voucher).
const (
	UpdateClaim       = "claim-task"
	UpdateRelease     = "release-task"
	UpdateDecide      = "decide"
	UpdateProvideInfo = "provide-information"
	UpdateAssign      = "assign-task"
	QueryState        = "state"
)

// The appointment workflow (its state answers QueryState).
const (
	UpdateRecordAttendance = "record-attendance"
	UpdateCancel           = "cancel"
)

// The booking workflow.
const (
	// SignalBookingPayment carries a payment provider's event (the callback
	// handler verifies it and signals; the same event may arrive twice).
	SignalBookingPayment = "payment"

	UpdateBookingRespond         = "respond"          // the cooperative confirms (with session dates) or declines
	UpdateBookingRecordDelivery  = "record-delivery"  // the cooperative records a delivered session
	UpdateBookingConfirmDelivery = "confirm-delivery" // the citizen confirms delivered sessions
	UpdateBookingCancel          = "cancel-booking"   // the citizen (or staff) cancels what is not delivered

	QueryBookingState = "booking-state"
)

// The CallFunding workflow of a call being published: a supervisor
// withdraws the publication (CancelPublicationInput).
const UpdateCancelPublication = "cancel-publication"

// The delegation workflow of an absence.
const (
	UpdateCancelAbsence = "cancel-absence"
	QueryAbsence        = "absence"
)

// SignalDeclared tells a merchant's billing run about the self-declaration
// of its claim.
const SignalDeclared = "declared"

// Decision outcomes of a review task.
const (
	OutcomeApprove     = "approve"
	OutcomeReject      = "reject"
	OutcomeRequestInfo = "request_info"
	// OutcomeFirstApproval is what an approval above the fund's four-eyes
	// threshold becomes: it waits for a second approver.
	OutcomeFirstApproval = "first_approval"
)
