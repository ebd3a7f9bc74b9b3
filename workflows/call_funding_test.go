package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"sportello/activities"
	"sportello/internal/contract"
)

// callFundingRun runs CallFunding for call "c1" against mocks: commit
// answers got after fails temporary failures; it reports the result and
// what was opened and refused.
func callFundingRun(t *testing.T, fails int, got activities.CommitmentResult) (CallFundingResult, []activities.OpenCommittedCallInput, []activities.RefuseCallFundingInput, int) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := newTestEnv(&ts, warnings)
	env.RegisterActivity(&activities.CallFunding{})
	var opened []activities.OpenCommittedCallInput
	var refused []activities.RefuseCallFundingInput
	commits := 0
	env.OnActivity(callFundingActs.CommitCallBudget, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CallFundingInput) (activities.CommitmentResult, error) {
			if in.CallID != "c1" {
				t.Errorf("commit of %q", in.CallID)
			}
			commits++
			if commits <= fails {
				return activities.CommitmentResult{}, errors.New("accounting: HTTP 503")
			}
			return got, nil
		})
	env.OnActivity(callFundingActs.OpenCommittedCall, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OpenCommittedCallInput) (activities.CallFundingOutcome, error) {
			opened = append(opened, in)
			return activities.CallFundingOutcome{Status: "published"}, nil
		})
	env.OnActivity(callFundingActs.RefuseCallFunding, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefuseCallFundingInput) (activities.CallFundingOutcome, error) {
			refused = append(refused, in)
			return activities.CallFundingOutcome{Status: "draft"}, nil
		})
	env.ExecuteWorkflow(CallFunding, contract.CallFundingInput{CallID: "c1"})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed %v, %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res CallFundingResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res, opened, refused, commits
}

// The accounting system failing first: the commitment is asked again
// (same call) until confirmed, then the call is opened once with it.
func TestCallFundingConfirmedAfterFailures(t *testing.T) {
	res, opened, refused, commits := callFundingRun(t, 3, activities.CommitmentResult{Status: "publishing", Number: "IMP-1", AmountCents: 500})
	if commits != 4 || len(refused) != 0 || len(opened) != 1 || opened[0] != (activities.OpenCommittedCallInput{CallID: "c1", Number: "IMP-1", AmountCents: 500}) {
		t.Fatalf("commits %d, opened %+v, refused %+v", commits, opened, refused)
	}
	if res != (CallFundingResult{Status: "published", CommitmentNumber: "IMP-1"}) {
		t.Fatalf("result %+v", res)
	}
}

// A refusal puts the call back to draft and opens nothing.
func TestCallFundingRefusedOpensNothing(t *testing.T) {
	res, opened, refused, _ := callFundingRun(t, 0, activities.CommitmentResult{Status: "publishing", Refusal: activities.FundingRefusalBudget})
	if len(opened) != 0 || len(refused) != 1 || refused[0].Refusal != activities.FundingRefusalBudget {
		t.Fatalf("opened %+v, refused %+v", opened, refused)
	}
	if res.Status != "draft" || res.Refusal != activities.FundingRefusalBudget {
		t.Fatalf("result %+v", res)
	}
}

// A call no longer being published (a draft): nothing to do.
func TestCallFundingOfADraftDoesNothing(t *testing.T) {
	res, opened, refused, _ := callFundingRun(t, 0, activities.CommitmentResult{Status: "draft"})
	if len(opened) != 0 || len(refused) != 0 || res.Status != "draft" {
		t.Fatalf("opened %+v, refused %+v, result %+v", opened, refused, res)
	}
}
