package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// callFundingRun runs CallFunding for call "c1" against mocks: commit
// answers got after fails temporary failures; it reports the result and
// what was opened and refused.
func callFundingRun(t *testing.T, fails int, got activities.CommitmentResult) (CallFundingResult, []activities.OpenCommittedCallInput, []activities.RefuseCallFundingInput, int) {
	t.Helper()
	r := runCallFunding(t, fails, got, hooks{})
	if len(r.cancelled) != 0 {
		t.Fatalf("withdrawn without a request: %+v", r.cancelled)
	}
	return r.res, r.opened, r.refused, r.commits
}

// callFundingRecord is what a CallFunding run did.
type callFundingRecord struct {
	res       CallFundingResult
	opened    []activities.OpenCommittedCallInput
	refused   []activities.RefuseCallFundingInput
	cancelled []activities.CancelCallPublicationInput
	commits   int
}

// hooks run during a CallFunding test run: before it starts, and at the
// start of each commitment attempt (n from 1) and of the opening (n 0).
type hooks struct {
	before func(env *testsuite.TestWorkflowEnvironment)
	during func(env *testsuite.TestWorkflowEnvironment, n int)
}

// runCallFunding runs CallFunding for call "c1" against mocks: commit
// answers got after fails temporary failures; h's hooks run on the way.
func runCallFunding(t *testing.T, fails int, got activities.CommitmentResult, h hooks) callFundingRecord {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := newTestEnv(&ts, warnings)
	env.RegisterActivity(&activities.CallFunding{})
	var rec callFundingRecord
	env.OnActivity(callFundingActs.CancelCallPublication, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelCallPublicationInput) (activities.CallFundingOutcome, error) {
			rec.cancelled = append(rec.cancelled, in)
			return activities.CallFundingOutcome{Status: "draft"}, nil
		})
	if h.before != nil {
		h.before(env)
	}
	var opened []activities.OpenCommittedCallInput
	var refused []activities.RefuseCallFundingInput
	commits := 0
	env.OnActivity(callFundingActs.CommitCallBudget, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CallFundingInput) (activities.CommitmentResult, error) {
			if in.CallID != "c1" {
				t.Errorf("commit of %q", in.CallID)
			}
			commits++
			if h.during != nil {
				h.during(env, commits)
			}
			if commits <= fails {
				return activities.CommitmentResult{}, errors.New("accounting: HTTP 503")
			}
			return got, nil
		})
	env.OnActivity(callFundingActs.OpenCommittedCall, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OpenCommittedCallInput) (activities.CallFundingOutcome, error) {
			if h.during != nil {
				h.during(env, 0)
			}
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
	rec.res, rec.opened, rec.refused, rec.commits = res, opened, refused, commits
	return rec
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

// withdrawal is the withdrawal of the publication by "supervisore" and
// what became of it.
type withdrawal struct {
	answer    CallFundingResult
	rejected  error
	completed bool
}

// send sends it to the run in env.
func (w *withdrawal) send(env *testsuite.TestWorkflowEnvironment) {
	env.UpdateWorkflow(UpdateCancelPublication, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { w.rejected = err },
		OnComplete: func(v any, err error) {
			w.completed = true
			if err != nil {
				w.rejected = err
				return
			}
			w.answer = v.(CallFundingResult)
		},
	}, contract.CancelPublicationInput{Actor: "supervisore"})
}

// answered checks the run's result and the withdrawal's answer are want.
func (w *withdrawal) answered(t *testing.T, r callFundingRecord, want CallFundingResult) {
	t.Helper()
	if r.res != want || !w.completed || w.rejected != nil || w.answer != want {
		t.Fatalf("result %+v, update %+v (completed %v, %v)", r.res, w.answer, w.completed, w.rejected)
	}
}

// The accounting system not answering, the supervisor withdraws the
// publication between two attempts: no more attempts, the call goes back
// to draft withdrawn by them, nothing opened; the update answers so.
func TestCallFundingWithdrawnBetweenAttempts(t *testing.T) {
	w := &withdrawal{}
	r := runCallFunding(t, 1000, activities.CommitmentResult{}, hooks{before: func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { w.send(env) }, 5*time.Minute)
	}})
	if len(r.cancelled) != 1 || r.cancelled[0] != (activities.CancelCallPublicationInput{CallID: "c1", Actor: "supervisore"}) ||
		len(r.opened) != 0 || len(r.refused) != 0 {
		t.Fatalf("cancelled %+v, opened %+v, refused %+v", r.cancelled, r.opened, r.refused)
	}
	if r.commits < 3 || r.commits > 20 {
		t.Errorf("%d attempts in 5 minutes", r.commits)
	}
	w.answered(t, r, CallFundingResult{Status: "draft", Refusal: activities.FundingCancelled})
}

// The withdrawal arrives once the commitment is confirmed, while the call
// is being opened: the call is published with it (a confirmed commitment
// is never left behind) and the update answers published. (The test
// environment answers an attempt under way cancelled at once; with a
// server, that attempt finishes and its confirmation decides the same way:
// api TestCallPublicationCancelTooLate.)
func TestCallFundingWithdrawnTooLate(t *testing.T) {
	w := &withdrawal{}
	r := runCallFunding(t, 2, activities.CommitmentResult{Status: "publishing", Number: "IMP-7", AmountCents: 900}, hooks{
		during: func(env *testsuite.TestWorkflowEnvironment, n int) {
			if n == 0 {
				w.send(env)
			}
		}})
	if len(r.cancelled) != 0 || len(r.opened) != 1 || r.opened[0].Number != "IMP-7" {
		t.Fatalf("cancelled %+v, opened %+v", r.cancelled, r.opened)
	}
	w.answered(t, r, CallFundingResult{Status: "published", CommitmentNumber: "IMP-7"})
}

// A run recorded before a publication could be withdrawn (no level
// marker) refuses the withdrawal and goes on.
func TestCallFundingBeforeTheLevelRefusesTheWithdrawal(t *testing.T) {
	w := &withdrawal{}
	r := runCallFunding(t, 2, activities.CommitmentResult{Status: "publishing", Number: "IMP-8", AmountCents: 900}, hooks{
		before: func(env *testsuite.TestWorkflowEnvironment) {
			env.OnGetVersion(versionCallFunding, workflow.DefaultVersion, callFundingLevel).Return(workflow.DefaultVersion)
			env.RegisterDelayedCallback(func() { w.send(env) }, 1500*time.Millisecond)
		}})
	var appErr *temporal.ApplicationError
	if !errors.As(w.rejected, &appErr) || appErr.Type() != ErrTypePublicationNotCancellable || w.completed {
		t.Fatalf("withdrawal: %v (completed %v)", w.rejected, w.completed)
	}
	if len(r.cancelled) != 0 || r.res.Status != "published" {
		t.Fatalf("cancelled %+v, result %+v", r.cancelled, r.res)
	}
}
