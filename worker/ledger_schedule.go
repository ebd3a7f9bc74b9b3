package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"sportello/internal/contract"
	"sportello/workflows"
)

// LedgerSchedule is when the ledger check runs: every night at 02:30
// Italian time, before the monthly billing.
var LedgerSchedule = client.ScheduleSpec{
	Calendars: []client.ScheduleCalendarSpec{{
		Second:  []client.ScheduleRange{{Start: 0}},
		Minute:  []client.ScheduleRange{{Start: 30}},
		Hour:    []client.ScheduleRange{{Start: 2}},
		Comment: "nightly ledger check", // every day, month and weekday (the defaults)
	}},
	TimeZoneName: "Europe/Rome",
}

// EnsureLedgerSchedule creates or updates the Temporal Schedule that runs
// the LedgerVerify workflow every night. Runs never overlap (a check still
// running skips the next one); a missed night is caught up within a day.
func EnsureLedgerSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	err := ensureSchedule(ctx, c.ScheduleClient(), client.ScheduleOptions{
		ID:   contract.LedgerScheduleID,
		Spec: LedgerSchedule,
		Action: &client.ScheduleWorkflowAction{
			ID:        "ledger-verify-run",
			Workflow:  workflows.LedgerVerify,
			Args:      []any{workflows.LedgerVerifyInput{}},
			TaskQueue: taskQueue,
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 24 * time.Hour,
		Note:          "Sportello nightly ledger check",
	})
	if err != nil {
		return fmt.Errorf("ledger schedule: %w", err)
	}
	return nil
}
