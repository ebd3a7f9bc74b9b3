package contract

import "net/url"

// Where the payment provider sends the citizen and its events for a booking:
// the API serves both; the booking saga puts them in the payment intent it
// creates (MerchantReference = the booking id).

// PaymentsCallbackPath is where the API receives the payment provider's
// signed events (POST).
const PaymentsCallbackPath = "/api/v1/payments/callback"

// BookingPaymentReturnPath is the page the provider sends the citizen back
// to after paying (or giving up), relative to the portal's URL.
func BookingPaymentReturnPath(bookingID string) string {
	return "/bookings/" + url.PathEscape(bookingID) + "/return"
}
