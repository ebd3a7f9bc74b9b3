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
// place (a changed poll interval reaches the action) and adds none.
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
	again, err := EnsureBillingSchedules(ctx, c, st, tq, 2*time.Hour)
	if err != nil || again != n {
		t.Fatalf("second time: %d %v", again, err)
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
}
