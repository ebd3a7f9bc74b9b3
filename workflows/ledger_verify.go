package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// ledgerActs is how the ledger check names its activity.
var ledgerActs *activities.Ledger

// LedgerVerifyInput is one run of the ledger check.
type LedgerVerifyInput struct {
	// Grace is how long a closed booking may still hold a refund under way
	// (0: contract.DefaultVerifyGrace).
	Grace time.Duration `json:"grace,omitempty"`
}

// LedgerVerifyResult is what a passing check saw.
type LedgerVerifyResult struct {
	Accounts  int64 `json:"accounts"`
	Transfers int64 `json:"transfers"`
	Checks    int   `json:"checks"`
}

// LedgerVerify recomputes every account from its transfers and checks the
// ledger's invariants (the VerifyLedger activity). A violation fails the run
// with the report (contract.LedgerReport) attached, so it shows as a failed
// workflow and is logged at error level by the activity.
func LedgerVerify(ctx workflow.Context, in LedgerVerifyInput) (LedgerVerifyResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumAttempts: 5},
	})
	var out activities.LedgerVerifyResult
	if err := workflow.ExecuteActivity(ctx, ledgerActs.VerifyLedger, activities.LedgerVerifyInput{Grace: in.Grace}).Get(ctx, &out); err != nil {
		return LedgerVerifyResult{}, err
	}
	res := LedgerVerifyResult{Accounts: out.Report.Accounts, Transfers: out.Report.Transfers, Checks: len(out.Report.Checks)}
	if !out.Report.OK() {
		return res, temporal.NewNonRetryableApplicationError("ledger check failed: "+out.Report.FirstProblem(),
			contract.ErrTypeLedgerViolated, nil, out.Report)
	}
	return res, nil
}
