package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// PasswordResetMail delivers the e-mail of one password reset request
// (issue 16): the request only queues it, so that its answer takes the same
// path whether or not the account exists. A mail server that stays down
// leaves the request unanswered; the citizen may ask again.
func PasswordResetMail(ctx workflow.Context, in contract.PasswordResetMail) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 5},
	})
	return workflow.ExecuteActivity(actx, accountMail.SendPasswordReset, in).Get(ctx, nil)
}

var accountMail *activities.AccountMail
