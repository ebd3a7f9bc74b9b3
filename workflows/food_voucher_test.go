package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// Monday 2026-03-02 10:00 in Rome: three working days later is Thursday 10:00.
var start = time.Date(2026, 3, 2, 10, 0, 0, 0, rome)

var (
	worker    = Actor{UserID: 10, Username: "operatore.tradate", Role: "operator"}
	colleague = Actor{UserID: 11, Username: "operatore2.tradate", Role: "operator"}
	citizen   = Actor{UserID: 1, Username: "cittadino.tradate", Role: "citizen"}
)

func testCase() activities.LoadCaseResult {
	return activities.LoadCaseResult{
		Case: contract.CaseInfo{
			ID: "BS-2026-000001", DistrictID: "tradate", MunicipalityID: "tradate", ApplicantID: citizen.UserID,
			TaxCode: "RSSMRA80A41L319X", Status: StatusSubmitted, Data: json.RawMessage(`{}`),
			Fund: contract.FundTerms{
				ID: "buoni-spesa-tradate-2026", ISEEThresholdCents: 1500000,
				Rule:              contract.AwardRule{BaseCents: 15000, PerExtraMemberCents: 10000, PerMinorCents: 5000, MaxCents: 55000},
				Tranches:          []contract.Tranche{{Percent: 50, AfterDays: 0}, {Percent: 50, AfterDays: 14}},
				ReviewWorkingDays: 3,
				ExpiresAt:         start.Add(120 * 24 * time.Hour),
			},
		},
		DefaultAwardCents: 30000,
	}
}

type caseSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env       *testsuite.TestWorkflowEnvironment
	caseRes   activities.LoadCaseResult
	opened    []activities.OpenTaskInput
	notes     []activities.NotifyInput
	reminded  []activities.TaskActionInput
	withdrawn *[]activities.WithdrawInput
	released  []activities.TrancheInput
	picks     []activities.PickAssigneeInput
	pick      activities.PickAssigneeResult // who automatic assignment chooses (nobody by default)
	lock      sync.Mutex                    // mocks run on the test environment's activity goroutines
}

func TestCaseWorkflow(t *testing.T) { suite.Run(t, new(caseSuite)) }

func (s *caseSuite) SetupTest() {
	s.env = newTestEnv(&s.WorkflowTestSuite, warnings)
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Cases{})
	s.opened, s.released, s.notes, s.reminded = nil, nil, nil, nil
	s.env.OnActivity(acts.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.NotifyInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		s.notes = append(s.notes, in)
		return nil
	})
	s.env.OnActivity(acts.RemindTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TaskActionInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		s.reminded = append(s.reminded, in)
		return nil
	})
	s.withdrawn = &[]activities.WithdrawInput{}
	s.env.OnActivity(acts.Withdraw, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.WithdrawInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		*s.withdrawn = append(*s.withdrawn, in)
		return nil
	})
	s.caseRes = testCase()
	s.env.OnActivity(acts.LoadCase, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.LoadCaseInput) (activities.LoadCaseResult, error) {
			return s.caseRes, nil
		})
	s.env.OnActivity(acts.Precheck, mock.Anything, mock.Anything).Return(activities.PrecheckResult{Passed: true}, nil)
	s.env.OnActivity(acts.OpenTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.OpenTaskInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		s.opened = append(s.opened, in)
		return nil
	})
	s.env.OnActivity(acts.ClaimTask, mock.Anything, mock.Anything).Return(nil)
	s.picks, s.pick = nil, activities.PickAssigneeResult{}
	s.env.OnActivity(acts.PickAssignee, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PickAssigneeInput) (activities.PickAssigneeResult, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.picks = append(s.picks, in)
			return s.pick, nil
		})
	s.env.OnActivity(acts.ReleaseTask, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(acts.ReceiveInformation, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(acts.ReleaseTranche, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TrancheInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		s.released = append(s.released, in)
		return nil
	})
	s.env.OnActivity(acts.ExpireVoucher, mock.Anything, mock.Anything).Return(activities.ExpireResult{ReturnedCents: 1234}, nil)
}

// currentTaskID reads the open task id through the query, as the API would.
func (s *caseSuite) currentTaskID() string {
	v, err := s.env.QueryWorkflow(QueryState)
	s.Require().NoError(err)
	var st StateResult
	s.Require().NoError(v.Get(&st))
	s.Require().NotNil(st.Task, "no open task (status %s)", st.Status)
	return st.Task.ID
}

type updateOutcome struct {
	rejected error
	err      error
	result   any
}

// update sends an update at delay and records what happened to it.
func (s *caseSuite) update(delay time.Duration, name string, arg func() any) *updateOutcome {
	out := &updateOutcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { out.rejected = err },
			OnComplete: func(r any, err error) { out.result, out.err = r, err },
		}, arg())
	}, delay)
	return out
}

func (s *caseSuite) claimAndDecide(at time.Duration, who Actor, d func(taskID string) DecideInput) (*updateOutcome, *updateOutcome) {
	var taskID string
	claim := s.update(at, UpdateClaim, func() any {
		taskID = s.currentTaskID()
		return ClaimInput{TaskID: taskID, Actor: who}
	})
	decide := s.update(at+time.Minute, UpdateDecide, func() any { return d(taskID) })
	return claim, decide
}

func appErrType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

// forbiddenReason is the ForbiddenReason code a refusal carries ("" none).
func forbiddenReason(err error) string {
	var ae *temporal.ApplicationError
	var r ForbiddenReason
	if errors.As(err, &ae) && ae.HasDetails() && ae.Details(&r) == nil {
		return r.Code
	}
	return ""
}

func (s *caseSuite) result() FoodVoucherResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var r FoodVoucherResult
	s.Require().NoError(s.env.GetWorkflowResult(&r))
	return r
}

func (s *caseSuite) TestApproveWithDefaultAmountReleasesTranchesAndExpires() {
	var decision activities.DecisionInput
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (activities.DecisionResult, error) {
			decision = in
			return activities.DecisionResult{VoucherID: "v-1"}, nil
		})
	claim, decide := s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})

	r := s.result()
	s.NoError(claim.rejected)
	s.NoError(claim.err)
	s.NoError(decide.rejected)
	s.NoError(decide.err)
	s.Equal(StatusClosed, r.Status)
	s.EqualValues(30000, r.AwardCents, "zero amount means the fund's rule")
	s.EqualValues(30000, decision.AmountCents)
	s.Equal("v-1", r.VoucherID)
	s.EqualValues(1234, r.ReturnedCts)

	s.Require().Len(s.opened, 1)
	s.Equal(time.Date(2026, 3, 5, 10, 0, 0, 0, rome), s.opened[0].DueAt.In(rome), "due three working days later")

	s.Require().Len(s.released, 2)
	s.EqualValues(15000, s.released[0].AmountCents)
	s.EqualValues(15000, s.released[1].AmountCents)
	s.Equal(0, s.released[0].Index)
	s.Equal(14*24*time.Hour, s.released[1].At.Sub(s.released[0].At), "second tranche 14 days after the first")
	s.env.AssertActivityNotCalled(s.T(), "EscalateTask", mock.Anything, mock.Anything)
}

// A new execution records the FoodVoucher level (versions.go) and takes
// every stacked change: notifications among them. One without a level
// marker reads the legacy per-change markers as before: with casework-2
// not recorded there, the same approval notifies nobody.
func (s *caseSuite) TestLevelOrLegacyMarkers() {
	approve := func() {
		s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v-1"}, nil)
		s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
			return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove}
		})
		s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
		s.Equal(StatusClosed, s.result().Status)
	}
	approve()
	s.NotEmpty(s.notes, "the level has notifications on")
	s.Require().Len(s.opened, 1)
	s.Equal(TaskReview, s.opened[0].Kind)

	s.SetupTest()
	s.env.OnGetVersion(versionFoodVoucher, workflow.DefaultVersion, foodVoucherLevel).Return(workflow.DefaultVersion)
	s.env.OnGetVersion(versionCasework2, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	approve()
	s.Empty(s.notes, "before casework-2, no notifications")
	s.Require().Len(s.opened, 1)
	s.Empty(s.opened[0].Kind)
}

func (s *caseSuite) TestOddAmountSplitsWithoutLosingACent() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v-1"}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove, AmountCents: 33333}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.Require().Len(s.released, 2)
	s.EqualValues(33333, s.released[0].AmountCents+s.released[1].AmountCents)
}

func (s *caseSuite) TestReject() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	_, decide := s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeReject, Reason: "ISEE above the threshold"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(decide.err)
	s.Equal(StatusRejected, r.Status)
	s.Zero(r.AwardCents)
	s.Empty(s.released)
	s.env.AssertActivityNotCalled(s.T(), "ExpireVoucher", mock.Anything, mock.Anything)
}

func (s *caseSuite) TestRequestInformationThenApprove() {
	var outcomes []string
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (activities.DecisionResult, error) {
			outcomes = append(outcomes, in.Outcome)
			return activities.DecisionResult{VoucherID: "v-1"}, nil
		})
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeRequestInfo, Reason: "Please attach the ISEE certificate"}
	})
	early := s.update(2*time.Hour, UpdateDecide, func() any { return DecideInput{TaskID: "x", Actor: worker, Outcome: OutcomeApprove} })
	stranger := s.update(3*time.Hour, UpdateProvideInfo, func() any {
		return ProvideInfoInput{Actor: Actor{UserID: 99, Username: "altro", Role: "citizen"}, Message: "hi"}
	})
	reply := s.update(4*time.Hour, UpdateProvideInfo, func() any {
		return ProvideInfoInput{Actor: citizen, Message: "Attached", Data: json.RawMessage(`{"isee_euro":9000}`)}
	})
	again := s.update(5*time.Hour, UpdateProvideInfo, func() any { return ProvideInfoInput{Actor: citizen, Message: "again"} })
	s.claimAndDecide(24*time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove, AmountCents: 20000}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.Equal(ErrTypeTaskNotOpen, appErrType(early.rejected), "no task while waiting for the citizen")
	s.Equal(ErrTypeForbidden, appErrType(stranger.rejected))
	s.NoError(reply.rejected)
	s.NoError(reply.err)
	s.Equal(ErrTypeNotAwaitingInfo, appErrType(again.rejected))
	s.Equal([]string{OutcomeRequestInfo, OutcomeApprove}, outcomes)
	s.Len(s.opened, 2, "the case goes back to the queue with a new task")
	s.NotEqual(s.opened[0].TaskID, s.opened[1].TaskID)
	s.EqualValues(20000, r.AwardCents)
}

func (s *caseSuite) TestOverdueTaskIsEscalatedThenDecided() {
	var escalated []activities.TaskActionInput
	s.env.OnActivity(acts.EscalateTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TaskActionInput) error {
		escalated = append(escalated, in)
		return nil
	})
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	var state StateResult
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&state))
	}, 4*24*time.Hour)
	s.claimAndDecide(6*24*time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeReject, Reason: "late but decided"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.Require().Len(escalated, 1)
	s.Equal(time.Date(2026, 3, 5, 10, 0, 0, 0, rome), escalated[0].At.In(rome), "escalated exactly at the due date")
	s.Require().Len(s.reminded, 1)
	s.WithinDuration(start.Add(72*time.Hour*3/4), s.reminded[0].At, 0, "reminded at 75% of the time")
	s.Contains(s.kinds(), activities.KindStaffReminder)
	s.Contains(s.kinds(), activities.KindStaffEscalation)
	s.Require().NotNil(state.Task)
	s.True(state.Task.Escalated)
	s.Equal(StatusRejected, r.Status)
}

func (s *caseSuite) TestValidatorsGuardTheTask() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	var taskID string
	unclaimed := s.update(time.Hour, UpdateDecide, func() any {
		taskID = s.currentTaskID()
		return DecideInput{TaskID: taskID, Actor: worker, Outcome: OutcomeApprove}
	})
	byCitizen := s.update(time.Hour+time.Second, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: citizen} })
	wrongTask := s.update(time.Hour+2*time.Second, UpdateClaim, func() any { return ClaimInput{TaskID: "nope", Actor: worker} })
	claim := s.update(2*time.Hour, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: worker} })
	reclaim := s.update(2*time.Hour+time.Second, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: worker} })
	steal := s.update(3*time.Hour, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: colleague} })
	otherDecides := s.update(4*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: colleague, Outcome: OutcomeApprove}
	})
	otherReleases := s.update(4*time.Hour+time.Second, UpdateRelease, func() any { return ReleaseInput{TaskID: taskID, Actor: colleague} })
	tooMuch := s.update(5*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: worker, Outcome: OutcomeApprove, AmountCents: 55001}
	})
	noReason := s.update(5*time.Hour+time.Second, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: worker, Outcome: OutcomeReject, Reason: "  "}
	})
	badOutcome := s.update(5*time.Hour+2*time.Second, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: worker, Outcome: "maybe"}
	})
	release := s.update(6*time.Hour, UpdateRelease, func() any { return ReleaseInput{TaskID: taskID, Actor: worker} })
	colleagueClaims := s.update(7*time.Hour, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: colleague} })
	decide := s.update(8*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: colleague, Outcome: OutcomeApprove, AmountCents: 55000}
	})
	twice := s.update(9*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: colleague, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()

	s.Equal(ErrTypeNotClaimed, appErrType(unclaimed.rejected))
	s.Equal(ErrTypeForbidden, appErrType(byCitizen.rejected))
	s.Equal(ErrTypeTaskNotOpen, appErrType(wrongTask.rejected))
	s.NoError(claim.rejected)
	s.NoError(reclaim.rejected, "claiming again is idempotent")
	s.Equal(ErrTypeAlreadyClaimed, appErrType(steal.rejected))
	s.Equal(ErrTypeNotClaimed, appErrType(otherDecides.rejected))
	s.Equal(ErrTypeNotClaimed, appErrType(otherReleases.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(tooMuch.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(noReason.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(badOutcome.rejected))
	s.NoError(release.rejected)
	s.NoError(colleagueClaims.rejected)
	s.NoError(decide.rejected)
	s.NoError(decide.err)
	s.Equal(ErrTypeTaskNotOpen, appErrType(twice.rejected), "a task is decided once")
	s.EqualValues(55000, r.AwardCents)
	s.env.AssertActivityNumberOfCalls(s.T(), "ApplyDecision", 1)
	s.env.AssertActivityNumberOfCalls(s.T(), "ClaimTask", 2)
	s.env.AssertActivityNumberOfCalls(s.T(), "ReleaseTask", 1)
}

func (s *caseSuite) TestInsufficientBudgetKeepsTheTaskOpen() {
	calls := 0
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (activities.DecisionResult, error) {
			calls++
			if in.AmountCents > 10000 {
				return activities.DecisionResult{}, temporal.NewNonRetryableApplicationError(
					"the fund has 10000 cents left", ErrTypeInsufficientBudget, nil)
			}
			return activities.DecisionResult{VoucherID: "v"}, nil
		})
	_, big := s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove, AmountCents: 30000}
	})
	var state StateResult
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&state))
	}, 2*time.Hour)
	small := s.update(3*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: state.Task.ID, Actor: worker, Outcome: OutcomeApprove, AmountCents: 10000}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(big.rejected)
	s.Equal(ErrTypeInsufficientBudget, appErrType(big.err))
	s.Equal(StatusInReview, state.Status, "the task stays open")
	s.Require().NotNil(state.Task)
	s.Equal(worker.Username, state.Task.ClaimedBy, "and stays claimed")
	s.NoError(small.err)
	s.EqualValues(10000, r.AwardCents)
	s.Equal(2, calls)
}

func (s *caseSuite) TestTrancheAfterExpiryIsLeftToTheExpiry() {
	s.caseRes.Case.Fund.ExpiresAt = start.Add(10 * 24 * time.Hour)
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.Len(s.released, 1, "the second tranche would fall after the fund's end")
	s.Equal(StatusClosed, r.Status)
}

func (s *caseSuite) TestNewTaskIsClaimableRightAfterTheReply() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeRequestInfo, Reason: "missing document"}
	})
	s.update(2*time.Hour, UpdateProvideInfo, func() any { return ProvideInfoInput{Actor: citizen, Message: "here"} })
	claim, decide := s.claimAndDecide(2*time.Hour+time.Second, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(claim.rejected)
	s.NoError(decide.rejected)
	s.Equal(StatusClosed, r.Status)
	s.env.AssertActivityNotCalled(s.T(), "EscalateTask", mock.Anything, mock.Anything)
}

func (s *caseSuite) kinds() []string {
	s.lock.Lock()
	defer s.lock.Unlock()
	var k []string
	for _, n := range s.notes {
		k = append(k, n.Kind)
	}
	return k
}

func (s *caseSuite) TestCitizenIsToldAtEveryStep() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v-1"}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.Equal([]string{activities.KindApplicationReceived, activities.KindApproved, activities.KindVoucherReady,
		activities.KindTrancheReleased, activities.KindVoucherExpiring}, s.kinds())
	keys := map[string]bool{}
	for _, n := range s.notes {
		s.False(keys[n.Key], "notification key %s used twice", n.Key)
		keys[n.Key] = true
		s.Equal("applicant", n.Audience)
	}
	last := s.notes[len(s.notes)-1]
	s.WithinDuration(s.caseRes.Case.Fund.ExpiresAt.Add(-7*24*time.Hour), last.At, 0, "expiry warning a week before the end")
	s.Empty(s.reminded, "decided within the first hour: no reminder")
}

func (s *caseSuite) TestNoReplyByTheDeadlineWithdrawsTheCase() {
	withdrawn := s.withdrawn
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeRequestInfo, Reason: "ISEE certificate missing"}
	})
	late := s.update(30*24*time.Hour, UpdateProvideInfo, func() any { return ProvideInfoInput{Actor: citizen, Message: "too late"} })
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.Equal(StatusWithdrawn, r.Status)
	s.Require().Len(*withdrawn, 1)
	// Requested Monday 2 March 2026 11:01; ten working days later is Monday 16 March.
	s.Equal(time.Date(2026, 3, 16, 11, 1, 0, 0, rome), (*withdrawn)[0].Deadline.In(rome))
	s.WithinDuration((*withdrawn)[0].Deadline, (*withdrawn)[0].At, 0)
	s.Contains(s.kinds(), activities.KindWithdrawn)
	s.Contains(s.kinds(), activities.KindInformationRequested)
	_ = late // the workflow has ended by then: the update is never delivered
}

func (s *caseSuite) TestReplyJustBeforeTheDeadlineCounts() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeRequestInfo, Reason: "missing"}
	})
	reply := s.update(14*24*time.Hour+time.Hour, UpdateProvideInfo, func() any { return ProvideInfoInput{Actor: citizen, Message: "here"} })
	s.claimAndDecide(16*24*time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeReject, Reason: "not eligible"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(reply.rejected)
	s.Equal(StatusRejected, r.Status)
	s.env.AssertActivityNotCalled(s.T(), "Withdraw", mock.Anything, mock.Anything)
}

func (s *caseSuite) TestFourEyesAboveTheThreshold() {
	limit := int64(40000)
	s.caseRes.Case.Fund.FourEyesAboveCents = &limit
	var outcomes []string
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (activities.DecisionResult, error) {
			outcomes = append(outcomes, in.Outcome)
			return activities.DecisionResult{VoucherID: "v"}, nil
		})
	supervisor := Actor{UserID: 20, Username: "supervisore", Role: "supervisor"}
	other := Actor{UserID: 21, Username: "supervisore2", Role: "supervisor"}
	// A supervisor gives the first approval of EUR 500 on the review task.
	_, first := s.claimAndDecide(time.Hour, supervisor, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: supervisor, Outcome: OutcomeApprove, AmountCents: 50000}
	})
	var second string
	sameClaims := s.update(2*time.Hour, UpdateClaim, func() any {
		second = s.currentTaskID()
		return ClaimInput{TaskID: second, Actor: supervisor}
	})
	operatorClaims := s.update(2*time.Hour+time.Second, UpdateClaim, func() any { return ClaimInput{TaskID: second, Actor: worker} })
	otherClaims := s.update(3*time.Hour, UpdateClaim, func() any { return ClaimInput{TaskID: second, Actor: other} })
	askInfo := s.update(3*time.Hour+time.Second, UpdateDecide, func() any {
		return DecideInput{TaskID: second, Actor: other, Outcome: OutcomeRequestInfo, Reason: "?"}
	})
	approve := s.update(4*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: second, Actor: other, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(first.err)
	s.Equal(OutcomeFirstApproval, first.result.(DecideResult).Outcome)
	s.Equal(ErrTypeForbidden, appErrType(sameClaims.rejected), "the first approver cannot approve twice")
	s.Equal(ErrTypeForbidden, appErrType(operatorClaims.rejected), "the second approval is for supervisors")
	s.Equal(ReasonFourEyes, forbiddenReason(sameClaims.rejected))
	s.Equal(ReasonSupervisorOnly, forbiddenReason(operatorClaims.rejected))
	s.NoError(otherClaims.rejected)
	s.Equal(ErrTypeInvalidDecision, appErrType(askInfo.rejected))
	s.NoError(approve.err)
	s.Equal([]string{OutcomeFirstApproval, OutcomeApprove}, outcomes)
	s.EqualValues(50000, r.AwardCents, "the second approver confirms the first amount")
	s.Require().Len(s.opened, 2)
	s.Equal(TaskSecondApproval, s.opened[1].Kind)
	s.Equal("supervisor", s.opened[1].CandidateRole)
	s.Contains(s.kinds(), activities.KindStaffAssigned)
}

func (s *caseSuite) TestFourEyesNotNeededAtOrBelowTheThreshold() {
	limit := int64(40000)
	s.caseRes.Case.Fund.FourEyesAboveCents = &limit
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	_, d := s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeApprove, AmountCents: 40000}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.NoError(d.err)
	s.EqualValues(40000, r.AwardCents)
	s.Len(s.opened, 1)
}

func (s *caseSuite) TestSupervisorAssignsAndReassigns() {
	var assigned []activities.AssignInput
	s.env.OnActivity(acts.AssignTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AssignInput) error {
		assigned = append(assigned, in)
		return nil
	})
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
	supervisor := Actor{UserID: 20, Username: "supervisore", Role: "supervisor"}
	var taskID string
	byOperator := s.update(time.Hour, UpdateAssign, func() any {
		taskID = s.currentTaskID()
		return AssignInput{TaskID: taskID, Actor: worker, Assignee: colleague}
	})
	toCitizen := s.update(time.Hour+time.Second, UpdateAssign, func() any {
		return AssignInput{TaskID: taskID, Actor: supervisor, Assignee: citizen}
	})
	first := s.update(2*time.Hour, UpdateAssign, func() any { return AssignInput{TaskID: taskID, Actor: supervisor, Assignee: worker} })
	noReason := s.update(3*time.Hour, UpdateAssign, func() any { return AssignInput{TaskID: taskID, Actor: supervisor, Assignee: colleague} })
	again := s.update(3*time.Hour+time.Second, UpdateAssign, func() any {
		return AssignInput{TaskID: taskID, Actor: supervisor, Assignee: worker, Reason: "x"}
	})
	reassign := s.update(4*time.Hour, UpdateAssign, func() any {
		return AssignInput{TaskID: taskID, Actor: supervisor, Assignee: colleague, Reason: "Operatore in ferie"}
	})
	oldOwner := s.update(5*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: worker, Outcome: OutcomeApprove}
	})
	newOwner := s.update(5*time.Hour+time.Second, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: colleague, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.Equal(ErrTypeForbidden, appErrType(byOperator.rejected))
	s.Equal(ErrTypeInvalidDecision, appErrType(toCitizen.rejected))
	s.NoError(first.rejected)
	s.Equal(ErrTypeInvalidDecision, appErrType(noReason.rejected), "taking a task from someone needs a reason")
	s.Equal(ErrTypeAlreadyClaimed, appErrType(again.rejected))
	s.NoError(reassign.rejected)
	s.Equal(ErrTypeNotClaimed, appErrType(oldOwner.rejected))
	s.NoError(newOwner.rejected)
	s.Require().Len(assigned, 2)
	s.Equal("operatore.tradate", assigned[1].Previous)
	s.Equal("Operatore in ferie", assigned[1].Reason)
	s.Contains(s.kinds(), activities.KindStaffAssigned)
}

func (s *caseSuite) TestDueDateFollowsTheOfficeCalendar() {
	// Tradate's office opens at 8:30; its (configured) patron day falls on Wednesday 4 March.
	s.caseRes.Case.Office = contract.Office{PatronMonth: time.March, PatronDay: 4, Opens: 8*time.Hour + 30*time.Minute, Closes: 17 * time.Hour}
	s.env.SetStartTime(time.Date(2026, 3, 2, 7, 15, 0, 0, rome)) // Monday, before the office opens
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeReject, Reason: "no"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.Require().Len(s.opened, 1)
	// From Monday's opening: Tuesday, (Wednesday is the patron's day) Thursday, Friday.
	s.WithinDuration(time.Date(2026, 3, 6, 8, 30, 0, 0, rome), s.opened[0].DueAt, 0)
}

func (s *caseSuite) TestSecondTaskFollowsTheOfficeCalendarAsItIsThen() {
	limit := int64(40000)
	s.caseRes.Case.Fund.FourEyesAboveCents = &limit
	hours := contract.Office{Opens: 8*time.Hour + 30*time.Minute, Closes: 17 * time.Hour}
	s.caseRes.Case.Office = hours
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecisionInput) (activities.DecisionResult, error) {
			if in.Outcome == OutcomeFirstApproval {
				// Meanwhile a supervisor sets the patron's day on Wednesday 4 March.
				s.lock.Lock()
				s.caseRes.Case.Office.PatronMonth, s.caseRes.Case.Office.PatronDay = time.March, 4
				s.lock.Unlock()
			}
			return activities.DecisionResult{VoucherID: "v"}, nil
		})
	s.env.OnActivity(acts.LoadCase, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.LoadCaseInput) (activities.LoadCaseResult, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			return s.caseRes, nil
		})
	supervisor := Actor{UserID: 20, Username: "supervisore", Role: "supervisor"}
	other := Actor{UserID: 21, Username: "supervisore2", Role: "supervisor"}
	s.claimAndDecide(time.Hour, supervisor, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: supervisor, Outcome: OutcomeApprove, AmountCents: 50000}
	})
	s.claimAndDecide(3*time.Hour, other, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: other, Outcome: OutcomeApprove}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.Require().Len(s.opened, 2)
	// Opened Monday 2 March at 10:00 on the old calendar: Tuesday, Wednesday, Thursday.
	s.WithinDuration(time.Date(2026, 3, 5, 10, 0, 0, 0, rome), s.opened[0].DueAt, 0)
	// Opened at 11:01 (the first decision) after the change: Tuesday, (Wednesday is the patron's day) Thursday, Friday.
	s.WithinDuration(time.Date(2026, 3, 6, 11, 1, 0, 0, rome), s.opened[1].DueAt, 0)
}
