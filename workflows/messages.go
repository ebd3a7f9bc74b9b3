package workflows

import (
	"encoding/json"
	"time"

	"sportello/internal/contract"
)

// Update, query and error names of the case workflow (see internal/contract,
// where they are defined once). The API uses them to talk to a running case;
// they are part of the contract with running workflows, so never rename one.
const (
	UpdateClaim       = contract.UpdateClaim
	UpdateRelease     = contract.UpdateRelease
	UpdateDecide      = contract.UpdateDecide
	UpdateProvideInfo = contract.UpdateProvideInfo
	UpdateAssign      = contract.UpdateAssign
	QueryState        = contract.QueryState
)

// Application error types returned by validators and handlers. The API maps
// them to HTTP statuses.
const (
	ErrTypeTaskNotOpen        = contract.ErrTypeTaskNotOpen
	ErrTypeNotClaimed         = contract.ErrTypeNotClaimed
	ErrTypeAlreadyClaimed     = contract.ErrTypeAlreadyClaimed
	ErrTypeInvalidDecision    = contract.ErrTypeInvalidDecision
	ErrTypeInsufficientBudget = contract.ErrTypeInsufficientBudget
	ErrTypeNotAwaitingInfo    = contract.ErrTypeNotAwaitingInfo
	ErrTypeForbidden          = contract.ErrTypeForbidden
)

// Decision outcomes.
const (
	OutcomeApprove     = contract.OutcomeApprove
	OutcomeReject      = contract.OutcomeReject
	OutcomeRequestInfo = contract.OutcomeRequestInfo
)

// Case statuses, mirrored in the cases table.
const (
	StatusSubmitted     = "submitted"
	StatusInReview      = "in_review"
	StatusInfoRequested = "info_requested"
	StatusApproved      = "approved"
	StatusRejected      = "rejected"
	StatusClosed        = "closed"
	StatusWithdrawn     = "withdrawn"
)

// Task kinds.
const (
	TaskReview         = "review"
	TaskSecondApproval = "second_approval"
)

// OutcomeFirstApproval is what an approval above the fund's four-eyes
// threshold becomes: it waits for a second approver.
const OutcomeFirstApproval = contract.OutcomeFirstApproval

// Actor is the authenticated person behind an update, as the API saw them.
type Actor struct {
	UserID      int64  `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
}

// FoodVoucherInput starts the food-voucher case workflow. The case row already
// exists in PostgreSQL (the API wrote it before starting the workflow).
type FoodVoucherInput struct {
	CaseID string `json:"case_id"`
}

// FoodVoucherResult is what a finished case reports.
type FoodVoucherResult struct {
	Status      string `json:"status"`
	AwardCents  int64  `json:"award_cents"`
	VoucherID   string `json:"voucher_id,omitempty"`
	ReturnedCts int64  `json:"returned_cents"`
}

// ClaimInput claims the review task for the actor.
type ClaimInput struct {
	TaskID string `json:"task_id"`
	Actor  Actor  `json:"actor"`
}

// ClaimResult echoes the claim.
type ClaimResult struct {
	TaskID    string    `json:"task_id"`
	ClaimedBy string    `json:"claimed_by"`
	ClaimedAt time.Time `json:"claimed_at"`
}

// AssignInput is a supervisor giving the task to someone (or taking it from
// one worker to give it to another), with a reason.
type AssignInput struct {
	TaskID   string `json:"task_id"`
	Actor    Actor  `json:"actor"`
	Assignee Actor  `json:"assignee"`
	Reason   string `json:"reason"`
}

// AssignResult echoes the assignment.
type AssignResult struct {
	TaskID     string `json:"task_id"`
	AssignedTo string `json:"assigned_to"`
	Previous   string `json:"previous,omitempty"`
}

// ReleaseInput gives a claimed task back to the queue.
type ReleaseInput struct {
	TaskID string `json:"task_id"`
	Actor  Actor  `json:"actor"`
}

// ReleaseResult echoes the release.
type ReleaseResult struct {
	TaskID string `json:"task_id"`
}

// DecideInput is a social worker's decision on the current review task.
// AmountCents zero on approval means "the fund's rule".
type DecideInput struct {
	TaskID      string `json:"task_id"`
	Actor       Actor  `json:"actor"`
	Outcome     string `json:"outcome"`
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

// DecideResult reports the decision as applied.
type DecideResult struct {
	Outcome     string `json:"outcome"`
	Status      string `json:"status"`
	AmountCents int64  `json:"amount_cents,omitempty"`
	VoucherID   string `json:"voucher_id,omitempty"`
}

// ProvideInfoInput is the citizen's reply to a request for information. Data
// is the full application data after the citizen's changes, already validated
// against the form by the API (nil when nothing changed).
type ProvideInfoInput struct {
	Actor   Actor           `json:"actor"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// ProvideInfoResult reports the case status after the reply.
type ProvideInfoResult struct {
	Status string `json:"status"`
}

// TaskState is the current human task as the workflow knows it.
type TaskState struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind,omitempty"`
	DueAt       time.Time `json:"due_at"`
	ClaimedByID int64     `json:"claimed_by_id,omitempty"`
	ClaimedBy   string    `json:"claimed_by,omitempty"`
	Escalated   bool      `json:"escalated"`
}

// StateResult answers QueryState.
type StateResult struct {
	Status           string     `json:"status"`
	Task             *TaskState `json:"task,omitempty"`
	AwardCents       int64      `json:"award_cents,omitempty"`
	VoucherID        string     `json:"voucher_id,omitempty"`
	TranchesReleased int        `json:"tranches_released"`
}

// ForbiddenReason travels as the details of some ErrTypeForbidden refusals,
// so that callers tell them apart without reading the English message. The
// details of a validator's refusal are not part of the workflow's history
// (a rejected update records nothing), so adding them changes no logic.
type ForbiddenReason struct {
	Code string `json:"code"`
}

// Codes of ForbiddenReason.
const (
	ReasonFourEyes       = "four_eyes"       // the first approver may not give the second approval
	ReasonSupervisorOnly = "supervisor_only" // the second approval is for a supervisor
)

// FieldProblem travels as the details of an ErrTypeInvalidDecision (or
// ErrTypeBookingInvalidData) error, so the API can point at the field: ID
// is a message id of internal/i18n's message files and Args the arguments
// of its fmt verbs (the adapters write the text in the reader's language).
// Workflows write no sentence. Until 2026-12 the problem carried the
// sentences themselves ({"pointer", "message", "message_it"}); app.Classify
// still reads that shape.
type FieldProblem struct {
	Pointer string `json:"pointer"`
	ID      string `json:"id"`
	Args    []any  `json:"args,omitempty"`
}
