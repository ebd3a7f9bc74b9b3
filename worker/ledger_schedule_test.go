package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// The nightly ledger check: its schedule is made once (again: updated in
// place) and fires at 02:30 Italian time; the workflow it starts, run by
// the real worker on a seeded database, passes on sound books and fails,
// with the report, when a balance no longer matches its transfers.
func TestLedgerScheduleAndCheck(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, DemoVouchers: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	t.Cleanup(func() { _ = c.ScheduleClient().GetHandle(ctx, contract.LedgerScheduleID).Delete(ctx) })
	for i := 0; i < 2; i++ {
		if err := EnsureLedgerSchedule(ctx, c, tq); err != nil {
			t.Fatalf("ensure (%d): %v", i+1, err)
		}
	}
	d, err := c.ScheduleClient().GetHandle(ctx, contract.LedgerScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || a.TaskQueue != tq || a.Workflow != "LedgerVerify" {
		t.Fatalf("action %#v", d.Schedule.Action)
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) < 2 || next[0].In(rome).Hour() != 2 || next[0].In(rome).Minute() != 30 || next[1].Sub(next[0]) > 25*time.Hour {
		t.Fatalf("next runs %v, want nightly at 02:30 in Rome", next)
	}

	w := NewWith(c, st, Config{TaskQueue: tq})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	check := func(id string) (workflows.LedgerVerifyResult, error) {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, workflows.LedgerVerify, workflows.LedgerVerifyInput{})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.LedgerVerifyResult
		err = run.Get(ctx, &res)
		return res, err
	}
	res, err := check("ledger-verify-ok")
	if err != nil {
		t.Fatalf("sound books: %v", err)
	}
	if res.Accounts == 0 || res.Transfers == 0 || res.Checks < 12 {
		t.Fatalf("result %+v", res)
	}

	if _, err := st.Pool.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents + 7 WHERE id = $1`,
		store.FundAccountID(seed.FundID("tradate", time.Now().Year()))); err != nil {
		t.Fatal(err)
	}
	_, err = check("ledger-verify-broken")
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeLedgerViolated {
		t.Fatalf("broken books: %v, want a %s failure", err, contract.ErrTypeLedgerViolated)
	}
	var report store.LedgerReport
	if err := appErr.Details(&report); err != nil {
		t.Fatal(err)
	}
	bad := map[string]int{}
	for _, c := range report.Checks {
		bad[c.Name] = c.Violations
	}
	if bad["balance_matches_transfers"] != 1 || bad["balances_sum_to_zero"] != 1 || report.Violations() != 2 {
		t.Fatalf("report %+v", report.Checks)
	}
}
