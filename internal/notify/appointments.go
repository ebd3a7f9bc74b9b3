package notify

// Notification kinds of Social Point appointments. Their templates are in
// templates/appointment.<lang>.txt and .html. Data keys: name, portal_url,
// path (as every kind), point_name, point_address, starts_at, topic
// (may be empty); KindAppointmentCancelled also reason and by_staff (bool).
const (
	KindAppointmentBooked    = "appointment_booked"
	KindAppointmentReminder  = "appointment_reminder"
	KindAppointmentCancelled = "appointment_cancelled"
)

// AppointmentKinds lists the appointment kinds (compiled with Kinds).
var AppointmentKinds = []string{KindAppointmentBooked, KindAppointmentReminder, KindAppointmentCancelled}
