package contract

// The operations console (issue 13, part 2): what crosses the Temporal
// boundary for a refund resolved by hand and the watch of stuck journeys.

// Errors of the refund resolution workflow and its activity.
const (
	ErrTypeFourEyes         = "FourEyes"         // 403: the requester may not approve their own request
	ErrTypeResolutionClosed = "ResolutionClosed" // 409: the request is being carried out, or is done
	ErrTypeRefundNotOpen    = "RefundNotOpen"    // 409: the incident is resolved already, or is not a refund
)

// RefundResolutionWorkflowID is the workflow id of the request to resolve
// incident id by hand: one at a time per incident.
func RefundResolutionWorkflowID(incidentID string) string { return "refund-resolution:" + incidentID }

// OperationsWatchScheduleID is the schedule of the stuck-journey watch.
const OperationsWatchScheduleID = "operations-watch"

// ResolveRefundInput is what the activity resolving a refund by hand gets.
type ResolveRefundInput struct {
	IncidentID  string `json:"incident_id"`
	RequestedBy string `json:"requested_by"`
	ApprovedBy  string `json:"approved_by"`
	Reason      string `json:"reason"`
}

// ResolveRefundResult is the provider's confirmation of the refund.
type ResolveRefundResult struct {
	RefundID      string `json:"refund_id"`
	AmountCents   int64  `json:"amount_cents"`
	RefundedCents int64  `json:"refunded_cents"` // the payment's refunded total, read back from the provider
}

// RefundResolutionInput is the request: the incident, who asked and why.
type RefundResolutionInput struct {
	IncidentID string   `json:"incident_id"`
	Requester  OpsActor `json:"requester"`
	Reason     string   `json:"reason"`
}

// RefundApproveInput is the second supervisor's approval.
type RefundApproveInput struct {
	Actor OpsActor `json:"actor"`
}

// RefundResolutionResult says how the request ended.
type RefundResolutionResult struct {
	Outcome    string              `json:"outcome"` // resolved, expired
	ApprovedBy string              `json:"approved_by,omitempty"`
	Refund     ResolveRefundResult `json:"refund"`
}

// OpsActor is the supervisor who asks for or approves a resolution (the
// JSON of workflows.Actor).
type OpsActor struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}
