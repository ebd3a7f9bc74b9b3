package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// retentionActs is how the retention run names its activity.
var retentionActs *activities.Retention

// RetentionInput is one retention run (the nightly schedule's argument).
type RetentionInput struct {
	// RetentionDays is the period after which a citizen whose records are
	// all closed is pseudonymised (0: contract.DefaultRetentionDays).
	RetentionDays int `json:"retention_days,omitempty"`
	// Limit is the most citizens one run takes (0: the store's 500); the
	// rest wait for the next night.
	Limit int `json:"limit,omitempty"`
}

// RetentionResult is the recorded run.
type RetentionResult struct {
	RunID  int64     `json:"run_id"`
	Cutoff time.Time `json:"cutoff"`
	People int       `json:"people"`
	Cases  int       `json:"cases"`
	Kept   int       `json:"kept"`
	More   bool      `json:"more"`
}

// Retention pseudonymises the citizens whose records are all closed and
// older than the retention period (the PseudonymiseClosed activity, one
// transaction that also records the run). The cutoff is the workflow's
// clock minus the period, so a replay computes the same one; the run key
// is the workflow run, so a retried activity records the run once.
func Retention(ctx workflow.Context, in RetentionInput) (RetentionResult, error) {
	days := in.RetentionDays
	if days <= 0 {
		days = contract.DefaultRetentionDays
	}
	info := workflow.GetInfo(ctx)
	cutoff := workflow.Now(ctx).UTC().Truncate(time.Second).AddDate(0, 0, -days)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 30 * time.Second, MaximumAttempts: 5},
	})
	var out activities.RetentionResult
	err := workflow.ExecuteActivity(ctx, retentionActs.PseudonymiseClosed, activities.RetentionInput{
		RunKey: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID, Cutoff: cutoff,
		RetentionDays: days, Limit: in.Limit}).Get(ctx, &out)
	if err != nil {
		return RetentionResult{}, err
	}
	return RetentionResult{RunID: out.RunID, Cutoff: cutoff, People: out.People, Cases: out.Cases, Kept: out.Kept,
		More: out.More}, nil
}
