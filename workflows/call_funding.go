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

// CallFundingResult is the outcome of a call's funding: the call's status
// (published, or draft after a refusal), its commitment's number or the
// refusal's code.
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
func CallFunding(ctx workflow.Context, in contract.CallFundingInput) (CallFundingResult, error) {
	local := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeCallFundingState}},
	})
	remote := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeCallFundingState}},
	})
	var got activities.CommitmentResult
	if err := workflow.ExecuteActivity(remote, callFundingActs.CommitCallBudget, in).Get(ctx, &got); err != nil {
		return CallFundingResult{}, err
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
