package contract

import "time"

// What the Booking workflow (the saga) passes to its activities and reads
// back: a booking's sessions as loaded at start, its offers to
// cooperatives, and the inputs of the steps that write them. The store
// writes them; their JSON names are recorded in booking histories: never
// rename one (an untagged name was encoded under its Go name, which the tag
// now keeps).

// Offer outcomes (booking_offers.outcome).
const (
	OfferPending   = "pending"
	OfferConfirmed = "confirmed"
	OfferDeclined  = "declined"
	OfferExpired   = "expired"
	OfferWithdrawn = "withdrawn"
)

// BookingSession is one unit of a booking.
type BookingSession struct {
	ID            int64      `json:"id"`
	Seq           int        `json:"seq"`
	VoucherCents  int64      `json:"voucher_cents"`
	OnlineCents   int64      `json:"online_cents"`
	ScheduledAt   *time.Time `json:"scheduled_at,omitempty"`
	Status        string     `json:"status"`
	CooperativeID string     `json:"cooperative_id,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	DeliveryNote  string     `json:"delivery_note,omitempty"`
	ConfirmedAt   *time.Time `json:"confirmed_at,omitempty"`
	ConfirmedBy   string     `json:"confirmed_by,omitempty"`
	// CompanyCents is the session's company-credit part (0 in histories
	// recorded before the multi-funder checkout).
	CompanyCents int64 `json:"company_cents"`
}

// OfferInput asks for the offer number Attempt of a booking.
type OfferInput struct {
	BookingID string    `json:"BookingID"`
	Attempt   int       `json:"Attempt"`
	At        time.Time `json:"At"`
}

// Offer is one offer of a booking (Found false: no cooperative is left).
type Offer struct {
	Found           bool      `json:"found"`
	Attempt         int       `json:"attempt"`
	CooperativeID   string    `json:"cooperative_id"`
	CooperativeName string    `json:"cooperative_name"`
	ServiceID       int64     `json:"service_id"`
	ServiceName     string    `json:"service_name"`
	RespondBy       time.Time `json:"respond_by"`
}

// CloseOfferInput ends a pending offer.
type CloseOfferInput struct {
	BookingID string    `json:"BookingID"`
	Attempt   int       `json:"Attempt"`
	Outcome   string    `json:"Outcome"` // OfferDeclined, OfferExpired, OfferWithdrawn
	Reason    string    `json:"Reason"`
	By        int64     `json:"By"` // the cooperative user who declined (0: nobody)
	At        time.Time `json:"At"`
}

// AcceptOfferInput is a cooperative's confirmation with one date per session.
type AcceptOfferInput struct {
	BookingID string      `json:"BookingID"`
	Attempt   int         `json:"Attempt"`
	By        int64       `json:"By"`
	Dates     []time.Time `json:"Dates"` // Dates[i] is session i+1's
	At        time.Time   `json:"At"`
}

// DeliveryInput records one delivered session.
type DeliveryInput struct {
	BookingID     string    `json:"BookingID"`
	Seq           int       `json:"Seq"`
	CooperativeID string    `json:"CooperativeID"`
	By            int64     `json:"By"`
	DeliveredAt   time.Time `json:"DeliveredAt"`
	Note          string    `json:"Note"`
}

// ConfirmSessionsInput confirms delivered sessions (by the citizen or automatically).
type ConfirmSessionsInput struct {
	BookingID string    `json:"BookingID"`
	Seqs      []int     `json:"Seqs"`
	By        string    `json:"By"` // citizen, auto
	At        time.Time `json:"At"`
}

// CancelSessionsInput cancels planned sessions.
type CancelSessionsInput struct {
	BookingID string `json:"BookingID"`
	Seqs      []int  `json:"Seqs"`
	Reason    string `json:"Reason"`
	// Withdraw closes a pending offer as withdrawn (the booking is cancelled
	// while a cooperative is still deciding).
	Withdraw bool      `json:"Withdraw"`
	At       time.Time `json:"At"`
}
