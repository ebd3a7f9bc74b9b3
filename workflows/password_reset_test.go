package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"sportello/activities"
	"sportello/internal/contract"
)

// The reset e-mail's workflow hands its request to the activity as it came
// and retries a mail server that fails, then gives up after five attempts
// (the citizen may ask again).
func TestPasswordResetMailRetriesThenGivesUp(t *testing.T) {
	in := contract.PasswordResetMail{Request: "r-1", Username: "cittadino.tradate", RequestedAt: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	for _, failures := range []int{2, 10} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		calls := 0
		env.RegisterActivity(&activities.AccountMail{Reset: func(_ context.Context, got contract.PasswordResetMail) error {
			calls++
			if got != in {
				t.Errorf("activity input %+v, want %+v", got, in)
			}
			if calls <= failures {
				return errors.New("smtp: 421 try later")
			}
			return nil
		}})
		env.ExecuteWorkflow(PasswordResetMail, in)
		err := env.GetWorkflowError()
		switch failures {
		case 2:
			if err != nil || calls != 3 {
				t.Fatalf("two failures: %d calls, %v", calls, err)
			}
		default:
			if err == nil || calls != 5 {
				t.Fatalf("a mail server down: %d calls, %v", calls, err)
			}
		}
	}
}
