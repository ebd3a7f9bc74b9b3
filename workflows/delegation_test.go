package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"sportello/activities"
	"sportello/internal/contract"
)

type delegationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env       *testsuite.TestWorkflowEnvironment
	absence   activities.AbsenceResult
	handovers []time.Time
	handbacks []activities.HandBackInput
	cancels   []activities.CancelAbsenceInput
	lock      sync.Mutex
}

func TestDelegationWorkflow(t *testing.T) { suite.Run(t, new(delegationSuite)) }

// The absence starts a day after the workflow and lasts three days.
var (
	absenceStart = start.Add(24 * time.Hour)
	absenceEnd   = start.Add(4 * 24 * time.Hour)
)

func (s *delegationSuite) SetupTest() {
	s.env = newTestEnv(&s.WorkflowTestSuite, warnings)
	s.env.SetStartTime(start)
	s.env.RegisterActivity(&activities.Delegations{})
	s.handovers, s.handbacks, s.cancels = nil, nil, nil
	s.absence = activities.AbsenceResult{Found: true, Absence: contract.AbsenceView{ID: "a-1", UserID: worker.UserID,
		Username: worker.Username, DelegateID: colleague.UserID, Delegate: colleague.Username,
		StartsAt: absenceStart, EndsAt: absenceEnd, Reason: "ferie", Status: contract.AbsenceScheduled}}
	s.env.OnActivity(dacts.LoadAbsence, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.AbsenceInput) (activities.AbsenceResult, error) {
			return s.absence, nil
		})
	s.env.OnActivity(dacts.HandOver, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AbsenceInput) (activities.HandoverResult, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.handovers = append(s.handovers, in.At)
			return activities.HandoverResult{Moved: 2}, nil
		})
	s.env.OnActivity(dacts.HandBack, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.HandBackInput) (activities.HandoverResult, error) {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.handbacks = append(s.handbacks, in)
			return activities.HandoverResult{Moved: 1, Kept: 1}, nil
		})
	s.env.OnActivity(dacts.CancelAbsence, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelAbsenceInput) error {
			s.lock.Lock()
			defer s.lock.Unlock()
			s.cancels = append(s.cancels, in)
			return nil
		})
}

func (s *delegationSuite) result() DelegationResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var r DelegationResult
	s.Require().NoError(s.env.GetWorkflowResult(&r))
	return r
}

func (s *delegationSuite) cancelAt(delay time.Duration, who Actor) *updateOutcome {
	out := &updateOutcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateCancelAbsence, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { out.rejected = err },
			OnComplete: func(r any, err error) { out.result, out.err = r, err },
		}, CancelAbsenceInput{Actor: who})
	}, delay)
	return out
}

func (s *delegationSuite) status() string {
	v, err := s.env.QueryWorkflow(QueryAbsence)
	s.Require().NoError(err)
	var st AbsenceState
	s.Require().NoError(v.Get(&st))
	return st.Status
}

// The timer branches: hand over at the start, hand back at the end.
func (s *delegationSuite) TestHandsOverAtTheStartAndBackAtTheEnd() {
	var during string
	s.env.RegisterDelayedCallback(func() { during = s.status() }, 2*24*time.Hour)
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	r := s.result()
	s.Equal(DelegationResult{Status: contract.AbsenceEnded, Handed: 2, Returned: 1}, r)
	s.Equal(contract.AbsenceActive, during)
	s.Require().Len(s.handovers, 1)
	s.True(s.handovers[0].Equal(absenceStart), "handed over at the start, not before: %v", s.handovers[0])
	s.Require().Len(s.handbacks, 1)
	s.True(s.handbacks[0].At.Equal(absenceEnd), "handed back at the end: %v", s.handbacks[0].At)
	s.Equal(contract.AbsenceEnded, s.handbacks[0].Status)
	s.Empty(s.cancels)
}

// An absence starting in the past (today's date, recorded at 10:00) hands over at once.
func (s *delegationSuite) TestAbsenceAlreadyStartedHandsOverAtOnce() {
	s.absence.Absence.StartsAt = start.Add(-10 * time.Hour)
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	s.result()
	s.Require().Len(s.handovers, 1)
	s.True(s.handovers[0].Equal(start))
}

func (s *delegationSuite) TestCancelBeforeTheStartHandsNothing() {
	c := s.cancelAt(time.Hour, worker)
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	r := s.result()
	s.NoError(c.rejected)
	s.NoError(c.err)
	s.Equal(contract.AbsenceCancelled, r.Status)
	s.Empty(s.handovers)
	s.Empty(s.handbacks)
	s.Require().Len(s.cancels, 1)
	s.Equal(worker.UserID, s.cancels[0].ByUserID)
}

func (s *delegationSuite) TestCancelDuringHandsBackAtOnce() {
	cancelAt := 2 * 24 * time.Hour
	c := s.cancelAt(cancelAt, colleague)
	again := s.cancelAt(cancelAt, worker) // while the first is being written
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	r := s.result()
	s.NoError(c.err)
	s.Equal(ErrTypeAbsenceOver, appErrType(again.rejected))
	s.Equal(contract.AbsenceCancelled, r.Status)
	s.Len(s.handovers, 1)
	s.Require().Len(s.handbacks, 1)
	s.True(s.handbacks[0].At.Equal(start.Add(cancelAt)), "handed back on cancellation: %v", s.handbacks[0].At)
	s.Equal(contract.AbsenceCancelled, s.handbacks[0].Status)
}

func (s *delegationSuite) TestCitizensCannotCancel() {
	c := s.cancelAt(time.Hour, citizen)
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	s.Equal(contract.AbsenceEnded, s.result().Status)
	s.Equal(ErrTypeForbidden, appErrType(c.rejected))
}

// A workflow whose absence was never committed ends without doing anything.
func (s *delegationSuite) TestUncommittedAbsenceEndsAtOnce() {
	s.absence = activities.AbsenceResult{}
	s.env.ExecuteWorkflow(Delegation, DelegationInput{AbsenceID: "a-1"})
	s.Equal(contract.AbsenceCancelled, s.result().Status)
	s.Empty(s.handovers)
}
