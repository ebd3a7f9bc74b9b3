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
	"sportello/internal/testenv"
	"sportello/workflows"
)

// The nightly retention run: its schedule is made once (again: updated in
// place) and fires at 03:30 Italian time; a worker without the pseudonym
// key fails the run, not retried, and records and changes nothing (the
// run itself is tested end to end in internal/e2e,
// TestPersonalDataExportAndRetention).
func TestRetentionScheduleAndUnconfiguredWorker(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	t.Cleanup(func() { _ = c.ScheduleClient().GetHandle(ctx, contract.RetentionScheduleID).Delete(ctx) })
	for i, days := range []int{0, 400} {
		if err := EnsureRetentionSchedule(ctx, c, tq, days); err != nil {
			t.Fatalf("ensure (%d): %v", i+1, err)
		}
	}
	d, err := c.ScheduleClient().GetHandle(ctx, contract.RetentionScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || a.TaskQueue != tq || a.Workflow != "Retention" {
		t.Fatalf("action %#v", d.Schedule.Action)
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) < 2 || next[0].In(rome).Hour() != 3 || next[0].In(rome).Minute() != 30 || next[1].Sub(next[0]) > 25*time.Hour {
		t.Fatalf("next runs %v, want nightly at 03:30 in Rome", next)
	}

	w := NewWith(c, st, Config{TaskQueue: tq}) // no pseudonym key
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "retention-unconfigured", TaskQueue: tq},
		workflows.Retention, workflows.RetentionInput{RetentionDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	var appErr *temporal.ApplicationError
	if err := run.Get(ctx, nil); !errors.As(err, &appErr) || appErr.Type() != contract.ErrTypeRetentionUnconfigured {
		t.Fatalf("a run without the key: %v", err)
	}
	runs, err := st.RetentionRuns(ctx, 10)
	if err != nil || len(runs) != 0 {
		t.Fatalf("runs recorded without the key: %v %+v", err, runs)
	}
}
