package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"sportello/internal/contract"
	"sportello/internal/store"
	"sportello/workflows"
)

// BillingSchedule is when the monthly billing runs: on the 1st of each
// month at 03:00 Italian time, for the month just ended.
var BillingSchedule = client.ScheduleSpec{
	Calendars: []client.ScheduleCalendarSpec{{
		Second:     []client.ScheduleRange{{Start: 0}},
		Minute:     []client.ScheduleRange{{Start: 0}},
		Hour:       []client.ScheduleRange{{Start: 3}},
		DayOfMonth: []client.ScheduleRange{{Start: 1}},
		Comment:    "monthly billing of the month just ended",
	}},
	TimeZoneName: "Europe/Rome",
}

// EnsureBillingSchedules creates or updates one Temporal Schedule per
// cooperative and municipality it serves and per merchant and municipality
// of its district, each starting
// the Billing workflow monthly. Running it again changes nothing but the
// spec and the action, which it sets to the current ones. It returns the
// number of schedules. Runs of one schedule may overlap: each bills its own
// month, and a merchant's run waiting for last month's declaration must not
// hold up this month's.
func EnsureBillingSchedules(ctx context.Context, c client.Client, st *store.Store, taskQueue string, pollInterval time.Duration) (int, error) {
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	payees, err := st.BillingPayees(ctx)
	if err != nil {
		return 0, err
	}
	sc := c.ScheduleClient()
	for _, p := range payees {
		id := contract.BillingScheduleID(p.Kind, p.PayeeID, p.Municipality)
		action := &client.ScheduleWorkflowAction{
			ID:        "billing-run:" + id[len("billing:"):],
			Workflow:  workflows.Billing,
			Args:      []any{workflows.BillingInput{Kind: p.Kind, PayeeID: p.PayeeID, Municipality: p.Municipality, PollInterval: pollInterval}},
			TaskQueue: taskQueue,
		}
		if err := ensureSchedule(ctx, sc, client.ScheduleOptions{ID: id, Spec: BillingSchedule, Action: action,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: 7 * 24 * time.Hour,
			Note: "Sportello monthly billing"}); err != nil {
			return 0, fmt.Errorf("billing schedule %s: %w", id, err)
		}
	}
	return len(payees), nil
}
