package activities

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// An absence the workflow cannot see yet may belong to a transaction that has
// not committed: the first attempt asks for a retry instead of reporting the
// absence as never recorded (which would end its delegation at once).
func TestLoadAbsenceRetriesWhatIsNotCommittedYet(t *testing.T) {
	_, st := testenv.Postgres(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(&Delegations{Store: st})
	_, err := env.ExecuteActivity((&Delegations{}).LoadAbsence, AbsenceInput{AbsenceID: "00000000-0000-0000-0000-000000000000"})
	if err == nil {
		t.Fatal("a missing absence on the first attempt was reported as never recorded; want a retryable error")
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		t.Fatalf("the error must be retryable: %v", err)
	}
}
