package workflows

import "sportello/internal/store"

// Where the payment provider sends the citizen and its events for a
// booking (the API serves both; the saga puts them in the payment intent it
// creates with MerchantReference = the booking id).
const (
	// BookingWorkflowName is the type name the Booking workflow is
	// registered under; the API starts it by this name.
	BookingWorkflowName = "Booking"

	// PaymentsCallbackPath receives the provider's signed events (POST).
	PaymentsCallbackPath = store.PaymentsCallbackPath
)

// BookingPaymentReturnPath is the page the provider sends the citizen back
// to after paying (or giving up), relative to the portal's URL.
func BookingPaymentReturnPath(bookingID string) string {
	return store.BookingPaymentReturnPath(bookingID)
}
