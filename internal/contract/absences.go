package contract

import "time"

// Absence states (absences.status), kept by the delegation workflow.
const (
	AbsenceScheduled = "scheduled"
	AbsenceActive    = "active"
	AbsenceEnded     = "ended"
	AbsenceCancelled = "cancelled"
)

// AbsenceView is a staff member's absence (out of office) and their
// delegate: the API shows it, the delegation workflow loads it. Its JSON
// names are recorded in delegation histories: never rename one.
type AbsenceView struct {
	ID           string     `json:"id"`
	District     string     `json:"district"`
	Municipality string     `json:"municipality,omitempty"`
	UserID       int64      `json:"user_id"`
	Username     string     `json:"username"`
	DisplayName  string     `json:"display_name"`
	Role         string     `json:"role"`
	DelegateID   int64      `json:"delegate_id"`
	Delegate     string     `json:"delegate"`
	DelegateName string     `json:"delegate_name"`
	DelegateRole string     `json:"delegate_role"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       time.Time  `json:"ends_at"`
	Reason       string     `json:"reason"`
	Status       string     `json:"status"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
}
