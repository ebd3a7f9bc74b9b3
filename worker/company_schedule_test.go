package worker

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/testenv"
	"sportello/workflows"
)

// The companies' monthly statements: the schedule is made once (again:
// updated in place) and fires on the 1st at 04:00 Italian time; the
// workflow, run twice by the real worker, issues last month's statement of
// the demo company once.
func TestCompanyStatementsScheduleAndRun(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE companies SET created_at = created_at - interval '2 months'`); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	t.Cleanup(func() { _ = c.ScheduleClient().GetHandle(ctx, contract.CompanyStatementsScheduleID).Delete(ctx) })
	for i := range 2 {
		if err := EnsureCompanyStatementsSchedule(ctx, c, tq); err != nil {
			t.Fatalf("ensure (%d): %v", i+1, err)
		}
	}
	d, err := c.ScheduleClient().GetHandle(ctx, contract.CompanyStatementsScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.TaskQueue != tq || a.Workflow != "CompanyStatements" {
		t.Fatalf("action %#v", d.Schedule.Action)
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	if next := d.Info.NextActionTimes; len(next) == 0 || next[0].In(rome).Day() != 1 || next[0].In(rome).Hour() != 4 {
		t.Fatalf("next runs %v, want the 1st at 04:00 in Rome", next)
	}

	w := NewWith(c, st, Config{TaskQueue: tq})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	issued := 0
	for i := range 2 {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "company-statements-test-" + tq + string(rune('a'+i)), TaskQueue: tq},
			workflows.CompanyStatements, workflows.CompanyStatementsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.CompanyStatementsResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		issued += res.Issued
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM company_statements WHERE company_id = $1`, seed.DemoCompanyID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if issued != 1 || n != 1 {
		t.Fatalf("two runs issued %d, %d statements stored; want one", issued, n)
	}
}
