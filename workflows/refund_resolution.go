package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// RefundResolution is a refund resolved by hand, with four eyes (the
// operations console, issue 13): one supervisor asks for it (starting this
// workflow with their reason), a second, different supervisor approves it
// (the Update UpdateRefundApprove, whose validator refuses the requester);
// only then the activity asks the payment provider to refund, reads the
// refund back from the provider and books it in the ledger. A request
// nobody approves ends after RefundResolutionTTL.
func RefundResolution(ctx workflow.Context, in contract.RefundResolutionInput) (contract.RefundResolutionResult, error) {
	r := &refundResolution{in: in}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRefundApprove, r.approve,
		workflow.UpdateHandlerOptions{Validator: r.validate}); err != nil {
		return contract.RefundResolutionResult{}, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryRefundResolution, func() (contract.RefundResolutionInput, error) { return r.in, nil }); err != nil {
		return contract.RefundResolutionResult{}, err
	}
	// At the deadline, an approval under way is waited for.
	if ok, err := workflow.AwaitWithTimeout(ctx, RefundResolutionTTL, func() bool { return r.done }); err != nil || ok {
		return r.result, err
	}
	r.closed = true
	err := workflow.Await(ctx, func() bool { return !r.busy })
	if !r.done {
		r.result.Outcome = "expired"
	}
	return r.result, err
}

// RefundResolutionTTL is how long a request waits for its second supervisor.
const RefundResolutionTTL = 7 * 24 * time.Hour

// UpdateRefundApprove approves a refund resolution; QueryRefundResolution
// reads the request.
const (
	UpdateRefundApprove   = "approve"
	QueryRefundResolution = "request"
)

type refundResolution struct {
	in     contract.RefundResolutionInput
	busy   bool
	done   bool
	closed bool
	result contract.RefundResolutionResult
}

func (r *refundResolution) validate(ctx workflow.Context, in contract.RefundApproveInput) error {
	if in.Actor.Role != string(contract.RoleSupervisor) {
		return temporal.NewApplicationError("only a supervisor approves a refund resolved by hand", ErrTypeForbidden)
	}
	if in.Actor.UserID == r.in.Requester.UserID {
		return temporal.NewApplicationError("a second, different supervisor must approve this request", contract.ErrTypeFourEyes)
	}
	if r.busy || r.done || r.closed {
		return temporal.NewApplicationError("this request is being carried out, or is done", contract.ErrTypeResolutionClosed)
	}
	return nil
}

func (r *refundResolution) approve(ctx workflow.Context, in contract.RefundApproveInput) (contract.RefundResolutionResult, error) {
	if err := r.validate(ctx, in); err != nil {
		return contract.RefundResolutionResult{}, err
	}
	r.busy = true
	defer func() { r.busy = false }()
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	})
	var res contract.ResolveRefundResult
	err := workflow.ExecuteActivity(actx, opsActs.ResolveRefundByHand, contract.ResolveRefundInput{IncidentID: r.in.IncidentID,
		RequestedBy: r.in.Requester.Username, ApprovedBy: in.Actor.Username, Reason: r.in.Reason}).Get(ctx, &res)
	if err != nil {
		return contract.RefundResolutionResult{}, err
	}
	r.done = true
	r.result = contract.RefundResolutionResult{Outcome: "resolved", ApprovedBy: in.Actor.Username, Refund: res}
	return r.result, nil
}

var opsActs *activities.Operations

// OperationsWatch is one run of the stuck-journey watch (the schedule
// contract.OperationsWatchScheduleID): its activity, registered by the
// worker, lists what is stuck longer than the threshold and e-mails the
// supervisors once per item. It returns how many e-mails it queued.
func OperationsWatch(ctx workflow.Context) (int, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumAttempts: 3},
	})
	var sent int
	err := workflow.ExecuteActivity(actx, watchActs.OperationsStuckCheck).Get(ctx, &sent)
	return sent, err
}

var watchActs *activities.OperationsWatch
