package worker

import (
	"context"
	"time"

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
	return ensurePlatformSchedule(ctx, c, taskQueue, platformSchedule{
		id: contract.LedgerScheduleID, runID: "ledger-verify-run", what: "ledger",
		note: "Sportello nightly ledger check", spec: LedgerSchedule,
		workflow: workflows.LedgerVerify, args: []any{workflows.LedgerVerifyInput{}},
		catchUp: 24 * time.Hour,
	})
}
