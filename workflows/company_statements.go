package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
)

// companyActs is how the monthly company statements name their activity.
var companyActs *activities.Companies

// CompanyStatementsInput is one monthly run of the company statements.
type CompanyStatementsInput struct{}

// CompanyStatementsResult says how many statements the run issued.
type CompanyStatementsResult struct {
	Issued int `json:"issued"`
}

// CompanyStatements issues last month's statement and invoice of every
// company (the CompanyStatements schedule, on the 1st of each month). The
// month is the one before the run's start (workflow time, Italian
// calendar); issuing is idempotent, so a repeated or caught-up run issues
// nothing twice.
func CompanyStatements(ctx workflow.Context, _ CompanyStatementsInput) (CompanyStatementsResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumAttempts: 10},
	})
	var out activities.IssueStatementsResult
	if err := workflow.ExecuteActivity(ctx, companyActs.IssueCompanyStatements,
		activities.IssueStatementsInput{At: workflow.Now(ctx)}).Get(ctx, &out); err != nil {
		return CompanyStatementsResult{}, err
	}
	return CompanyStatementsResult{Issued: out.Issued}, nil
}
