package notify

// Notification kinds of marketplace bookings (issue 5). Their templates are
// in templates/booking.<lang>.txt and .html. Data keys: name, portal_url,
// path (as every kind), number, service_name, cooperative; reoffered also
// previous (the cooperative that did not accept) and reason; cancelled also
// reason, refund_cents (online money refunded), voucher_cents (voucher
// credit given back) and company_cents (company welfare credit given back).
const (
	KindBookingConfirmed = "booking_confirmed"
	KindBookingReoffered = "booking_reoffered"
	KindBookingCancelled = "booking_cancelled"
)

// BookingKinds lists the booking kinds (compiled with Kinds).
var BookingKinds = []string{KindBookingConfirmed, KindBookingReoffered, KindBookingCancelled}
