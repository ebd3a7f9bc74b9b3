package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// BookableForTest reads a service as the cart does (bookableService) and as
// the checkout does (bookableHere), in one transaction of scope.
func (a API) BookableForTest(ctx context.Context, scope Scope, id int64) (cart, checkout Service, cartErr, checkoutErr error) {
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		cart, cartErr = bookableService(ctx, tx, scope, id)
		checkout, checkoutErr = bookableHere(ctx, tx, scope, id)
		return nil
	})
	if err != nil {
		cartErr, checkoutErr = err, err
	}
	return cart, checkout, cartErr, checkoutErr
}

// DashboardPlansForTest returns the plans (EXPLAIN (FORMAT JSON)) of the
// dashboard's statements that read cases and tasks, planned in one
// transaction of scope with sequential and bitmap scans disabled, so that
// each plan shows the best index path the policies leave the planner.
func (a API) DashboardPlansForTest(ctx context.Context, scope Scope, f DashboardFilter) (map[string]string, error) {
	stmts := map[string]string{"applications": dashApplicationsSQL, "decisions": dashDecisionsSQL, "backlog": dashBacklogSQL}
	plans := map[string]string{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
			return err
		}
		for name, sql := range stmts {
			var plan string
			if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, dashArgs(f)).Scan(&plan); err != nil {
				return err
			}
			plans[name] = plan
		}
		return nil
	})
	return plans, err
}
