package workflows

import (
	"context"
	"time"

	"github.com/stretchr/testify/mock"

	"sportello/activities"
	"sportello/internal/contract"
)

// Automatic assignment picks someone: the task is theirs as if a supervisor
// had assigned it (task row and timeline through AssignTask, the assignee
// notified), and they can decide without claiming.
func (s *caseSuite) TestAutoAssignGivesTheTaskToTheLeastLoaded() {
	s.pick = activities.PickAssigneeResult{UserID: colleague.UserID, Username: colleague.Username, Role: colleague.Role}
	var assigned []activities.AssignInput
	s.env.OnActivity(acts.AssignTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AssignInput) error {
		s.lock.Lock()
		defer s.lock.Unlock()
		assigned = append(assigned, in)
		return nil
	})
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	var state StateResult
	var taskID string
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&state))
		taskID = state.Task.ID
	}, time.Minute)
	otherClaims := s.update(time.Hour, UpdateClaim, func() any { return ClaimInput{TaskID: taskID, Actor: worker} })
	decide := s.update(2*time.Hour, UpdateDecide, func() any {
		return DecideInput{TaskID: taskID, Actor: colleague, Outcome: OutcomeReject, Reason: "ISEE too high"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	r := s.result()
	s.Equal(StatusRejected, r.Status)
	s.Require().NotNil(state.Task)
	s.Equal(colleague.UserID, state.Task.ClaimedByID)
	s.Equal(ErrTypeAlreadyClaimed, appErrType(otherClaims.rejected))
	s.NoError(decide.rejected)
	s.NoError(decide.err)
	s.Require().Len(assigned, 1)
	s.Equal(contract.AutoAssignReason, assigned[0].Reason)
	s.Equal("", assigned[0].Actor.Username, "the system assigns")
	s.Equal(colleague.Username, assigned[0].Assignee.Username)
	s.Require().Len(s.picks, 1)
	s.Equal(taskID, s.picks[0].TaskID)
	s.Contains(s.kinds(), activities.KindStaffAssigned)
}

// Nobody available: the task stays open in the queue for anyone to claim.
func (s *caseSuite) TestAutoAssignWithNobodyLeavesTheTaskOpen() {
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{}, nil)
	claim, decide := s.claimAndDecide(time.Hour, worker, func(id string) DecideInput {
		return DecideInput{TaskID: id, Actor: worker, Outcome: OutcomeReject, Reason: "no"}
	})
	s.env.ExecuteWorkflow(FoodVoucher, FoodVoucherInput{CaseID: "BS-2026-000001"})
	s.result()
	s.NoError(claim.rejected)
	s.NoError(decide.err)
	s.Len(s.picks, 1, "automatic assignment was asked")
	s.env.AssertActivityNotCalled(s.T(), "AssignTask", mock.Anything, mock.Anything)
	s.NotContains(s.kinds(), activities.KindStaffAssigned)
}

// A second approval never goes back to the first approver.
func (s *caseSuite) TestAutoAssignExcludesTheFirstApprover() {
	limit := int64(40000)
	s.caseRes.Case.Fund.FourEyesAboveCents = &limit
	s.env.OnActivity(acts.ApplyDecision, mock.Anything, mock.Anything).Return(activities.DecisionResult{VoucherID: "v"}, nil)
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
	s.Require().Len(s.picks, 2)
	s.EqualValues(0, s.picks[0].ExcludeUserID)
	s.Equal(supervisor.UserID, s.picks[1].ExcludeUserID)
}
