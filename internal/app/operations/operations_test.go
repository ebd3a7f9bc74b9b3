package operations_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"sportello/internal/app"
	"sportello/internal/app/operations"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// flaky is a deliberately failing activity: it fails until told otherwise,
// and records when each attempt ran.
type flaky struct {
	mu      sync.Mutex
	ok      atomic.Bool
	attempt []time.Time
}

func (f *flaky) OpsFlakyStep(ctx context.Context) error {
	f.mu.Lock()
	f.attempt = append(f.attempt, time.Now())
	f.mu.Unlock()
	if f.ok.Load() {
		return nil
	}
	return fmt.Errorf("deliberate failure, attempt %d", activity.GetInfo(ctx).Attempt)
}

func (f *flaky) attempts() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempt...)
}

// OpsFlaky runs the failing step: two quick attempts, then a long backoff.
func OpsFlaky(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 2000,
			MaximumInterval: 10 * time.Minute}})
	var f *flaky
	if err := workflow.ExecuteActivity(ctx, f.OpsFlakyStep).Get(ctx, nil); err != nil {
		return err
	}
	// Then wait until cancelled.
	return workflow.Await(ctx, func() bool { return false })
}

// OpsBroken fails every workflow task.
func OpsBroken(ctx workflow.Context) error {
	panic("deliberately broken workflow code")
}

// The console's Temporal side on a real server: a journey of the whole
// installation whose activity keeps failing is listed for every supervisor
// (with attempt, last failure and next attempt), and so are a workflow
// whose tasks fail and a paused schedule; retry now runs the activity at
// once (long before its backoff would have); cancel with a reason ends the
// journey through Temporal's cancellation, the reason in its history; both
// are audited, and an operator may do neither.
func TestConsoleAgainstTemporal(t *testing.T) {
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	f := &flaky{}
	w := sdkworker.New(c, tq, sdkworker.Options{})
	w.RegisterWorkflow(OpsFlaky)
	w.RegisterWorkflow(OpsBroken)
	w.RegisterActivity(f)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	svc := operations.New(&app.Core{Store: st, API: st.API(), Temporal: c, Log: slog.Default(), Now: time.Now, TaskQueue: tq},
		operations.Settings{Namespace: testenv.Namespace, Attempts: 3, PageSize: 1}) // one journey a page: the pages are walked
	user := func(name string) store.UserView {
		var u store.UserView
		if err := st.Pool.QueryRow(ctx, `SELECT id, username, role, display_name, district_id, coalesce(municipality_id, '')
			FROM users WHERE username = $1`, name).Scan(&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.District, &u.Municipality); err != nil {
			t.Fatal(err)
		}
		return u
	}
	sup, padova, op := user("supervisore"), user("supervisore.padova"), user("operatore.tradate")

	flakyID, brokenID, schedID := "ops-flaky:"+tq, "ops-broken:"+tq, "ops-paused:"+tq
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: flakyID, TaskQueue: tq}, OpsFlaky)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: brokenID, TaskQueue: tq}, OpsBroken); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), brokenID, "", "test over") })
	if _, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: schedID, Paused: true,
		Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{ID: schedID + "-run", Workflow: OpsFlaky, TaskQueue: tq}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.ScheduleClient().GetHandle(context.Background(), schedID).Delete(context.Background()) })

	// Listed past the threshold, for a supervisor of either district.
	var item operations.Item
	var broken, paused bool
	deadline := time.Now().Add(60 * time.Second)
	for item.Key == "" || !broken || !paused {
		if time.Now().After(deadline) {
			t.Fatalf("not listed in time: activity %+v, broken %v, paused %v", item, broken, paused)
		}
		time.Sleep(200 * time.Millisecond)
		rep, err := listAll(ctx, svc, padova)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range rep {
			switch {
			case it.Kind == operations.KindActivityRetrying && it.WorkflowID == flakyID:
				item = it
			case it.Kind == operations.KindWorkflowTask && it.WorkflowID == brokenID:
				broken = it.Attempt > 1
			case it.Kind == operations.KindScheduleMissed && it.ScheduleID == schedID:
				paused = it.Details == "paused"
			}
		}
	}
	if item.Attempt != 3 || item.ActivityType != "OpsFlakyStep" || item.LastFailure != "deliberate failure, attempt 2" ||
		item.NextAttempt == nil || time.Until(*item.NextAttempt) < time.Minute || item.Since.After(time.Now()) {
		t.Fatalf("listed %+v", item)
	}
	for _, page := range []string{"%%%", "QUFB"} {
		if _, err := svc.List(ctx, sup, page); kind(err) != app.Invalid {
			t.Fatalf("page %q: %v", page, err)
		}
	}
	if _, err := svc.List(ctx, op, ""); kind(err) != app.Forbidden {
		t.Fatalf("an operator listed the console: %v", err)
	}

	// Retry now: the third attempt runs at once, and this time it succeeds.
	f.ok.Store(true)
	in := operations.RetryInput{WorkflowID: flakyID, RunID: item.RunID, ActivityID: item.ActivityID}
	if _, err := svc.RetryNow(ctx, op, in); kind(err) != app.Forbidden {
		t.Fatalf("an operator retried: %v", err)
	}
	asked := time.Now()
	if _, err := svc.RetryNow(ctx, sup, in); err != nil {
		t.Fatal(err)
	}
	for len(f.attempts()) < 3 {
		if time.Since(asked) > 30*time.Second {
			t.Fatal("the retried attempt did not run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if at := f.attempts()[2]; !at.Before(*item.NextAttempt) || at.Sub(asked) > 20*time.Second {
		t.Fatalf("the retry ran at %s, asked at %s, its backoff ended at %s", at, asked, item.NextAttempt)
	}
	if _, err := svc.RetryNow(ctx, sup, in); kind(err) != app.Conflict {
		t.Fatalf("retrying a completed activity: %v", err)
	}

	// Cancel with a reason: required, then the journey ends, cancelled.
	if _, err := svc.Cancel(ctx, sup, operations.CancelInput{WorkflowID: flakyID}); kind(err) != app.Invalid {
		t.Fatalf("cancel without a reason: %v", err)
	}
	if _, err := svc.Cancel(ctx, op, operations.CancelInput{WorkflowID: flakyID, Reason: "x"}); kind(err) != app.Forbidden {
		t.Fatalf("an operator cancelled: %v", err)
	}
	if _, err := svc.Cancel(ctx, sup, operations.CancelInput{WorkflowID: flakyID, Reason: "test journey abandoned"}); err != nil {
		t.Fatal(err)
	}
	var canceled *temporal.CanceledError
	if err := run.Get(ctx, nil); !errors.As(err, &canceled) {
		t.Fatalf("the journey ended with %v, want cancelled", err)
	}
	it := c.GetWorkflowHistory(ctx, flakyID, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	reason := ""
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowExecutionCancelRequestedEventAttributes(); a != nil {
			reason = a.GetCause()
		}
	}
	if reason != "test journey abandoned" {
		t.Fatalf("cancel reason in the history %q", reason)
	}
	if _, err := svc.Cancel(ctx, sup, operations.CancelInput{WorkflowID: flakyID, Reason: "again"}); kind(err) != app.Conflict {
		t.Fatalf("cancelling an ended journey: %v", err)
	}
	if _, err := svc.Cancel(ctx, sup, operations.CancelInput{WorkflowID: "ops-none:" + tq, Reason: "x"}); kind(err) != app.NotFound {
		t.Fatalf("cancelling no journey: %v", err)
	}

	// Audited: one done and the refusals, with the reason.
	var done, refused int
	var gotReason string
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = $1), count(*) FILTER (WHERE action = $1 || '_refused'),
		coalesce(max(reason) FILTER (WHERE action = $1), '') FROM audit_log WHERE actor_username = 'supervisore'`,
		operations.AuditCancel).Scan(&done, &refused, &gotReason); err != nil {
		t.Fatal(err)
	}
	if done != 1 || refused != 3 || gotReason != "test journey abandoned" {
		t.Fatalf("cancel audit: %d done, %d refused, reason %q", done, refused, gotReason)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = $1), count(*) FILTER (WHERE action = $1 || '_refused')
		FROM audit_log WHERE actor_username = 'supervisore'`, operations.AuditRetry).Scan(&done, &refused); err != nil {
		t.Fatal(err)
	}
	if done != 1 || refused != 1 {
		t.Fatalf("retry audit: %d done, %d refused", done, refused)
	}
}

// listAll reads every page of the console.
func listAll(ctx context.Context, svc operations.Service, u store.UserView) ([]operations.Item, error) {
	var out []operations.Item
	page := ""
	for {
		rep, err := svc.List(ctx, u, page)
		if err != nil {
			return nil, err
		}
		out = append(out, rep.Items...)
		if page = rep.NextPage; page == "" {
			return out, nil
		}
	}
}

func kind(err error) app.Kind {
	if err == nil {
		return 255
	}
	return app.Classify(err).Kind
}
