package contract

// The statuses of a booking and of its sessions, and the rules that derive
// a booking's status. The Booking workflow keeps the status in its state
// (its query and its result) and the store writes it in bookings.status:
// both apply these functions, so the two cannot disagree.

// Booking statuses (bookings.status).
const (
	BookingAwaitingPayment = "awaiting_payment"
	BookingRequested       = "requested"
	BookingConfirmed       = "confirmed"
	BookingDelivered       = "delivered" // every session delivered, some not confirmed yet
	BookingCompleted       = "completed"
	BookingCancelled       = "cancelled"
)

// Session statuses (booking_sessions.status).
const (
	SessionPlanned   = "planned"
	SessionDelivered = "delivered"
	SessionConfirmed = "confirmed"
	SessionCancelled = "cancelled"
)

// BookingStatusRequestable is the status of a booking that may now go to a
// cooperative (its online part is paid, or it has none): one awaiting
// payment is requested; any other keeps its status.
func BookingStatusRequestable(current string) string {
	if current == BookingAwaitingPayment {
		return BookingRequested
	}
	return current
}

// BookingStatusFromSessions is the status of a booking whose sessions have
// the given statuses, current being its status before they changed: every
// session cancelled (or none at all), cancelled; none left planned or
// delivered, completed; none left planned, delivered; otherwise the booking
// keeps its status (requested while a cooperative decides, confirmed once
// one accepted).
func BookingStatusFromSessions(current string, sessions []string) string {
	var planned, delivered, cancelled int
	for _, st := range sessions {
		switch st {
		case SessionPlanned:
			planned++
		case SessionDelivered:
			delivered++
		case SessionCancelled:
			cancelled++
		}
	}
	switch {
	case cancelled == len(sessions):
		return BookingCancelled
	case planned == 0 && delivered == 0:
		return BookingCompleted
	case planned == 0:
		return BookingDelivered
	default:
		return current
	}
}
