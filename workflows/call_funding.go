package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// callFundingActs is how the call funding workflow names its activities.
var callFundingActs *activities.CallFunding

// UpdateCancelPublication withdraws the publication of the call being
// funded (contract.CancelPublicationInput; answers a CallFundingResult).
const UpdateCancelPublication = contract.UpdateCancelPublication

// ErrTypePublicationNotCancellable refuses the withdrawal in a run that
// started before a publication could be withdrawn.
const ErrTypePublicationNotCancellable = contract.ErrTypePublicationNotCancellable

// CallFundingResult is the outcome of a call's funding: the call's status
// (published, or draft after a refusal or a withdrawal), its commitment's
// number or the refusal's code (activities.FundingCancelled for a
// withdrawal).
type CallFundingResult struct {
	Status           string `json:"Status"`
	CommitmentNumber string `json:"CommitmentNumber"`
	Refusal          string `json:"Refusal"`
}

// CallFunding funds a call being published (workflow id
// contract.CallFundingWorkflowID): the municipality's accounting system is
// asked to commit the call's budget (key "funding:<call id>", retried
// through its unavailability for as long as it takes; the call stays being
// published meanwhile, with nothing booked); once the commitment is
// confirmed, the call records it, its fund is funded through the ledger and
// it opens, in one transaction. A refusal puts the call back to draft with
// the refusal's code, and nothing moves. Every step is idempotent, so a
// second run commits and books nothing twice.
//
// From level callFundingCancellable, a supervisor may withdraw the
// publication (update UpdateCancelPublication) while the commitment is
// asked. The workflow serialises the withdrawal with the commitment: the
// request cancels the commitment's activity and waits for it to end. Between
// two attempts (the accounting system did not answer yet) it ends at once,
// and the call goes back to draft, withdrawn (nothing was committed, nothing
// is booked). An attempt under way is let finish: when the accounting system
// confirmed the commitment meanwhile, the call is published as always and
// the withdrawal answers so (published: a confirmed commitment is never
// left behind); a refusal puts it back to draft with the refusal; a failure
// withdraws it. The update answers the funding's result. On that level too,
// the accounting system's answer is recorded even when the journey itself
// is cancelled (the operations console) while an attempt confirms it.
func CallFunding(ctx workflow.Context, in contract.CallFundingInput) (CallFundingResult, error) {
	level := workflow.GetVersion(ctx, versionCallFunding, workflow.DefaultVersion, callFundingLevel)
	local := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeCallFundingState}},
	})
	remote := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeCallFundingState}},
		// A withdrawal lets an attempt under way finish (its answer decides).
		WaitForCancellation: level >= callFundingCancellable,
	})
	f := &callFunding{level: level}
	remote, f.stopCommit = workflow.WithCancel(remote)
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancelPublication, f.cancelPublication,
		workflow.UpdateHandlerOptions{Validator: f.validateCancel}); err != nil {
		return CallFundingResult{}, err
	}
	record := local
	if level >= callFundingCancellable {
		// The accounting system's answer is recorded even when the journey
		// itself is cancelled meanwhile (the operations console's "Cancel a
		// journey" during an attempt that confirms): a confirmed commitment
		// is never left behind.
		record, _ = workflow.NewDisconnectedContext(local)
	}
	res, err := fundCall(record, remote, in, func() *contract.CancelPublicationInput { return f.cancel })
	if err != nil {
		return res, err
	}
	f.result = &res
	// Every withdrawal waiting is answered before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return res, err
	}
	return res, nil
}

// callFunding is the state a CallFunding run shares with its update handler.
type callFunding struct {
	level      workflow.Version
	stopCommit workflow.CancelFunc
	cancel     *contract.CancelPublicationInput // the withdrawal, once asked
	result     *CallFundingResult               // the funding's outcome, once decided
}

// validateCancel refuses a withdrawal in a run before the level, or
// without its author.
func (f *callFunding) validateCancel(_ workflow.Context, req contract.CancelPublicationInput) error {
	if f.level < callFundingCancellable {
		return temporal.NewApplicationError("this publication's funding started before a publication could be withdrawn",
			ErrTypePublicationNotCancellable)
	}
	if req.Actor == "" {
		return temporal.NewApplicationError("who withdraws the publication is required", ErrTypePublicationNotCancellable)
	}
	return nil
}

// cancelPublication withdraws the publication: it cancels the commitment's
// activity (the first withdrawal only) and answers the funding's outcome
// once decided.
func (f *callFunding) cancelPublication(ctx workflow.Context, req contract.CancelPublicationInput) (CallFundingResult, error) {
	if f.cancel == nil {
		f.cancel = &req
		f.stopCommit()
	}
	if err := workflow.Await(ctx, func() bool { return f.result != nil }); err != nil {
		return CallFundingResult{}, err
	}
	return *f.result, nil
}

// fundCall asks for the commitment (remote: cancelled by a withdrawal,
// which cancelled says) and records its answer (local: the database's
// steps, waited for in local too).
func fundCall(local, remote workflow.Context, in contract.CallFundingInput,
	cancelled func() *contract.CancelPublicationInput) (CallFundingResult, error) {
	ctx := local
	var got activities.CommitmentResult
	if err := workflow.ExecuteActivity(remote, callFundingActs.CommitCallBudget, in).Get(ctx, &got); err != nil {
		w := cancelled()
		if w == nil {
			return CallFundingResult{}, err
		}
		// Withdrawn while the accounting system had not confirmed anything.
		var out activities.CallFundingOutcome
		if err := workflow.ExecuteActivity(local, callFundingActs.CancelCallPublication,
			activities.CancelCallPublicationInput{CallID: in.CallID, Actor: w.Actor}).Get(ctx, &out); err != nil {
			return CallFundingResult{}, err
		}
		return CallFundingResult{Status: out.Status, Refusal: activities.FundingCancelled}, nil
	}
	var out activities.CallFundingOutcome
	switch {
	case got.Refusal != "":
		if err := workflow.ExecuteActivity(local, callFundingActs.RefuseCallFunding,
			activities.RefuseCallFundingInput{CallID: in.CallID, Refusal: got.Refusal}).Get(ctx, &out); err != nil {
			return CallFundingResult{}, err
		}
		return CallFundingResult{Status: out.Status, Refusal: got.Refusal}, nil
	case got.Number == "":
		return CallFundingResult{Status: got.Status}, nil // a draft again: nothing to fund
	}
	if err := workflow.ExecuteActivity(local, callFundingActs.OpenCommittedCall, activities.OpenCommittedCallInput{
		CallID: in.CallID, Number: got.Number, AmountCents: got.AmountCents}).Get(ctx, &out); err != nil {
		return CallFundingResult{}, err
	}
	return CallFundingResult{Status: out.Status, CommitmentNumber: got.Number}, nil
}
