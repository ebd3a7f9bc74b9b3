package notify

// KindStaffIncident tells a district's supervisors about an incident: money
// the platform could not move as it should (issue 10). Its templates are in
// templates/incident.<lang>.txt and .html. Data keys: name, portal_url,
// path (as every kind), incident_kind (refund_failed or payment_mismatch),
// number (the booking's), municipality, amount_cents, details.
const KindStaffIncident = "staff_incident"

// IncidentKinds lists the incident kinds (compiled with Kinds).
var IncidentKinds = []string{KindStaffIncident, KindStaffStuck}

// KindStaffStuck tells supervisors that a journey has been stuck longer
// than the operations console's threshold (issue 13), once per item. Its
// templates are templates/stuck.<lang>.txt and .html. Data keys: name,
// portal_url, path (as every kind), item_kind, workflow_id, activity_type,
// schedule_id, number, municipality, since (time.Time), details, attempt.
const KindStaffStuck = "staff_stuck"
