package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"sportello/internal/store"
)

// Companies holds the activity of the monthly company statements.
type Companies struct {
	Store *store.Store
}

// IssueStatementsInput is one monthly run: the month before At's (Italian time).
type IssueStatementsInput struct {
	At time.Time `json:"at"`
}

// IssueStatementsResult says how many statements the run issued (those
// issued before are left as they are).
type IssueStatementsResult struct {
	Issued int `json:"issued"`
}

// IssueCompanyStatements issues last month's statement of every company,
// once each (store.IssueDueStatements): a retried or repeated run issues
// nothing twice.
func (a *Companies) IssueCompanyStatements(ctx context.Context, in IssueStatementsInput) (IssueStatementsResult, error) {
	n, err := a.Store.API().IssueDueStatements(ctx, in.At)
	if err != nil {
		return IssueStatementsResult{Issued: n}, err
	}
	activity.GetLogger(ctx).Info("company statements issued", "issued", n)
	return IssueStatementsResult{Issued: n}, nil
}
