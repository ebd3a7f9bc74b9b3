package workflows

import "sportello/internal/contract"

// Where the payment provider sends the citizen and its events for a
// booking (defined in internal/contract; the API serves both).
const (
	// BookingWorkflowName is the type name the Booking workflow is
	// registered under; the API starts it by this name.
	BookingWorkflowName = contract.BookingWorkflowName

	// PaymentsCallbackPath receives the provider's signed events (POST).
	PaymentsCallbackPath = contract.PaymentsCallbackPath
)

// BookingPaymentReturnPath is the page the provider sends the citizen back
// to after paying (or giving up), relative to the portal's URL.
func BookingPaymentReturnPath(bookingID string) string {
	return contract.BookingPaymentReturnPath(bookingID)
}
