package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"sportello/activities"
	"sportello/internal/contract"
	"sportello/workflows"
)

// RegisterRetention registers the retention run and its activity (it
// needs the pseudonym key, which Register's callers lack).
func RegisterRetention(r sdkworker.Registry, acts *activities.Retention) {
	r.RegisterWorkflow(workflows.Retention)
	r.RegisterActivity(acts)
}

// RetentionSchedule is when the retention run runs: every night at 03:30
// Italian time, after the ledger check.
var RetentionSchedule = client.ScheduleSpec{
	Calendars: []client.ScheduleCalendarSpec{{
		Second:  []client.ScheduleRange{{Start: 0}},
		Minute:  []client.ScheduleRange{{Start: 30}},
		Hour:    []client.ScheduleRange{{Start: 3}},
		Comment: "nightly retention run",
	}},
	TimeZoneName: "Europe/Rome",
}

// EnsureRetentionSchedule creates or updates the Temporal Schedule that
// runs the Retention workflow every night with the period days
// (contract.DefaultRetentionDays when not positive). Runs never overlap; a
// missed night is caught up within a day.
func EnsureRetentionSchedule(ctx context.Context, c client.Client, taskQueue string, days int) error {
	if days <= 0 {
		days = contract.DefaultRetentionDays
	}
	return ensurePlatformSchedule(ctx, c, taskQueue, platformSchedule{
		id: contract.RetentionScheduleID, runID: "retention-run", what: "retention",
		note: "Sportello nightly retention run (pseudonymisation of closed cases)", spec: RetentionSchedule,
		workflow: workflows.Retention, args: []any{workflows.RetentionInput{RetentionDays: days}},
		catchUp: 24 * time.Hour,
	})
}
