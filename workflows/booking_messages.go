package workflows

import (
	"time"

	"sportello/internal/contract"
)

// The contract of the Booking workflow (the saga of one marketplace booking:
// payment, offer to cooperatives, sessions, delivery, confirmation). The API
// writes the booking row, its sessions and the voucher hold in one
// transaction at checkout, then starts the workflow with BookingInput under
// BookingWorkflowID. Names below are part of the contract with running
// workflows: never rename one.
const (
	// SignalBookingPayment carries a payment provider's event (the callback
	// handler verifies it and signals; the same event may arrive twice).
	SignalBookingPayment = contract.SignalBookingPayment

	UpdateBookingRespond         = contract.UpdateBookingRespond         // the cooperative confirms (with session dates) or declines
	UpdateBookingRecordDelivery  = contract.UpdateBookingRecordDelivery  // the cooperative records a delivered session
	UpdateBookingConfirmDelivery = contract.UpdateBookingConfirmDelivery // the citizen confirms delivered sessions
	UpdateBookingCancel          = contract.UpdateBookingCancel          // the citizen (or staff) cancels what is not delivered

	QueryBookingState = contract.QueryBookingState
)

// Booking statuses, mirrored in bookings.status (internal/contract, with
// the rules that derive them).
const (
	BookingAwaitingPayment = contract.BookingAwaitingPayment
	BookingRequested       = contract.BookingRequested
	BookingConfirmed       = contract.BookingConfirmed
	BookingDelivered       = contract.BookingDelivered // every session delivered, some not confirmed yet
	BookingCompleted       = contract.BookingCompleted
	BookingCancelled       = contract.BookingCancelled
)

// Application error types of the booking workflow; the API maps them to 409
// (state) or 422 (input) with a clear message.
const (
	ErrTypeBookingClosed      = contract.ErrTypeBookingClosed      // 409: completed or cancelled
	ErrTypeBookingNotYours    = contract.ErrTypeBookingNotYours    // 409: the cooperative does not hold the request
	ErrTypeBookingWrongState  = contract.ErrTypeBookingWrongState  // 409: e.g. delivery before confirmation
	ErrTypeBookingInvalidData = contract.ErrTypeBookingInvalidData // 422: e.g. session dates missing or in the past
)

// BookingWorkflowID is the workflow id of a booking: one booking, one workflow.
func BookingWorkflowID(bookingID string) string { return contract.BookingWorkflowID(bookingID) }

// BookingInput starts the saga of a booking the API already wrote.
type BookingInput struct {
	BookingID   string `json:"booking_id"`
	DistrictID  string `json:"district_id"`
	CitizenID   int64  `json:"citizen_id"`
	OnlineCents int64  `json:"online_cents"` // > 0: wait for the online payment first
}

// BookingPayment is a payment provider event about the booking's payment.
type BookingPayment struct {
	EventID   string `json:"event_id"`
	PaymentID string `json:"payment_id"`
	Status    string `json:"status"` // the provider's status: succeeded, failed, canceled...
	Amount    int64  `json:"amount_cents"`
}

// BookingRespondInput is a cooperative's answer to a booking request.
type BookingRespondInput struct {
	Actor         Actor       `json:"actor"`
	CooperativeID string      `json:"cooperative_id"`
	Accept        bool        `json:"accept"`
	Reason        string      `json:"reason,omitempty"`   // when declining
	Sessions      []time.Time `json:"sessions,omitempty"` // when accepting: one date per unit booked
}

// BookingDeliveryInput is a cooperative's record of one delivered session.
type BookingDeliveryInput struct {
	Actor         Actor     `json:"actor"`
	CooperativeID string    `json:"cooperative_id"`
	Seq           int       `json:"seq"`
	DeliveredAt   time.Time `json:"delivered_at"`
	Note          string    `json:"note,omitempty"`
}

// BookingConfirmInput is the citizen confirming delivered sessions.
type BookingConfirmInput struct {
	Actor Actor `json:"actor"`
	Seqs  []int `json:"seqs"`
}

// BookingCancelInput cancels every session not delivered yet.
type BookingCancelInput struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}
