package worker

import (
	"context"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/testenv"
	"sportello/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The monthly billing schedules are made once per cooperative and
// municipality served and per merchant; making them again updates them in
// place (a changed poll interval reaches the action) and adds none. A start
// that changes nothing sends no update (the fingerprint in the action's
// memo), and a schedule made before the fingerprint gets it with one
// update, then none.
func TestEnsureBillingSchedulesIsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c := testenv.Temporal(t)
	tq := testenv.TaskQueue(t)
	payees, err := st.BillingPayees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range payees {
			_ = c.ScheduleClient().GetHandle(ctx, contract.BillingScheduleID(p.Kind, p.PayeeID, p.Municipality)).Delete(ctx)
		}
	})
	n, err := EnsureBillingSchedules(ctx, c, st, tq, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	coops, merchants := 0, 0
	for _, p := range payees {
		if p.Kind == "merchant" {
			merchants++
		} else {
			coops++
		}
	}
	if n != len(payees) || coops == 0 || merchants == 0 {
		t.Fatalf("%d schedules for %d cooperative runs and %d merchants", n, coops, merchants)
	}
	sc := c.ScheduleClient()
	ids := make([]string, len(payees))
	for i, p := range payees {
		ids[i] = contract.BillingScheduleID(p.Kind, p.PayeeID, p.Municipality)
	}
	made := lastUpdates(ctx, t, sc, ids...)
	if again, err := EnsureBillingSchedules(ctx, c, st, tq, time.Hour); err != nil || again != n {
		t.Fatalf("unchanged start: %d %v", again, err)
	}
	for id, at := range lastUpdates(ctx, t, sc, ids...) {
		if !at.Equal(made[id]) {
			t.Errorf("%s updated by a start that changed nothing (last update %s, was %s)", id, at, made[id])
		}
	}
	again, err := EnsureBillingSchedules(ctx, c, st, tq, 2*time.Hour)
	if err != nil || again != n {
		t.Fatalf("second time: %d %v", again, err)
	}
	changed := lastUpdates(ctx, t, sc, ids...)
	for id, at := range changed {
		if at.Equal(made[id]) {
			t.Errorf("%s not updated when its poll interval changed", id)
		}
	}
	if _, err := EnsureBillingSchedules(ctx, c, st, tq, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for id, at := range lastUpdates(ctx, t, sc, ids...) {
		if !at.Equal(changed[id]) {
			t.Errorf("%s updated again by a start that changed nothing", id)
		}
	}
	id := contract.BillingScheduleID("cooperative", "baobab", "tradate")
	d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || a.TaskQueue != tq || a.ID != "billing-run:cooperative:baobab:tradate" {
		t.Fatalf("action %#v", d.Schedule.Action)
	}
	if w, ok := a.Workflow.(string); !ok || w != "Billing" {
		t.Fatalf("workflow %#v", a.Workflow)
	}
	if d.Schedule.Spec.TimeZoneName != "Europe/Rome" || len(d.Schedule.Spec.Calendars) != 1 ||
		d.Schedule.Spec.Calendars[0].DayOfMonth[0].Start != 1 || d.Schedule.Spec.Calendars[0].Hour[0].Start != 3 {
		t.Fatalf("spec %+v", d.Schedule.Spec)
	}
	var in workflows.BillingInput
	if len(a.Args) != 1 {
		t.Fatalf("args %v", a.Args)
	}
	pl, ok := a.Args[0].(*commonpb.Payload)
	if !ok {
		t.Fatalf("arg %T", a.Args[0])
	}
	if err := converter.GetDefaultDataConverter().FromPayload(pl, &in); err != nil {
		t.Fatalf("decode args: %v", err)
	}
	if in.PayeeID != "baobab" || in.Municipality != "tradate" || in.PollInterval != 2*time.Hour {
		t.Fatalf("the update did not reach the action's input: %+v", in)
	}
	next := d.Info.NextActionTimes
	if len(next) == 0 || next[0].Day() != 1 {
		t.Fatalf("next runs %v", next)
	}

	// A schedule made before fingerprints: updated once, then left alone.
	legacy := "fingerprint-legacy-" + tq
	t.Cleanup(func() { _ = sc.GetHandle(ctx, legacy).Delete(ctx) })
	opts := client.ScheduleOptions{ID: legacy, Spec: BillingSchedule, Paused: true, Action: &client.ScheduleWorkflowAction{
		ID: "fingerprint-legacy-run-" + tq, Workflow: workflows.Billing, TaskQueue: tq,
		Args: []any{workflows.BillingInput{Kind: "merchant", PayeeID: "none", Municipality: "tradate"}}}}
	if _, err := sc.Create(ctx, opts); err != nil {
		t.Fatal(err)
	}
	before := lastUpdates(ctx, t, sc, legacy)[legacy]
	if err := ensureSchedule(ctx, sc, opts); err != nil {
		t.Fatal(err)
	}
	once := lastUpdates(ctx, t, sc, legacy)[legacy]
	if once.Equal(before) {
		t.Error("a schedule without a fingerprint was not updated")
	}
	if err := ensureSchedule(ctx, sc, opts); err != nil {
		t.Fatal(err)
	}
	if at := lastUpdates(ctx, t, sc, legacy)[legacy]; !at.Equal(once) {
		t.Error("a schedule given its fingerprint was updated again")
	}
}

// lastUpdates is when each schedule was last updated.
func lastUpdates(ctx context.Context, t *testing.T, sc client.ScheduleClient, ids ...string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, id := range ids {
		d, err := sc.GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			t.Fatalf("describe %s: %v", id, err)
		}
		out[id] = d.Info.LastUpdateAt
	}
	return out
}
