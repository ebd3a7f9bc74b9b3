package contract

// RetentionScheduleID is the id of the nightly retention run's schedule
// (workflows.Retention).
const RetentionScheduleID = "retention"

// DefaultRetentionDays is the retention period of closed cases unless
// SPORTELLO_RETENTION_DAYS says otherwise: ten years (README "Privacy and
// record of processing" says why).
const DefaultRetentionDays = 3650

// ErrTypeRetentionUnconfigured: the worker has no pseudonym key, so the
// retention run cannot pseudonymise anything (a configuration fault, not
// retried).
const ErrTypeRetentionUnconfigured = "RetentionUnconfigured"
