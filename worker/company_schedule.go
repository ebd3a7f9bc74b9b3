package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/contract"
	"sportello/workflows"
)

// CompanyStatementsSchedule is when the companies' monthly statements and
// invoices are issued: on the 1st of each month at 04:00 Italian time (after
// the night's ledger check and the billing runs), for the month just ended.
var CompanyStatementsSchedule = client.ScheduleSpec{
	Calendars: []client.ScheduleCalendarSpec{{
		Second:     []client.ScheduleRange{{Start: 0}},
		Minute:     []client.ScheduleRange{{Start: 0}},
		Hour:       []client.ScheduleRange{{Start: 4}},
		DayOfMonth: []client.ScheduleRange{{Start: 1}},
		Comment:    "company statements of the month just ended",
	}},
	TimeZoneName: "Europe/Rome",
}

// EnsureCompanyStatementsSchedule creates or updates the Temporal Schedule
// that runs the CompanyStatements workflow monthly. Runs never overlap; a
// missed run is caught up within a week (issuing is idempotent).
func EnsureCompanyStatementsSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	return ensurePlatformSchedule(ctx, c, taskQueue, platformSchedule{
		id: contract.CompanyStatementsScheduleID, runID: "company-statements-run", what: "company statements",
		note: "Sportello monthly company statements", spec: CompanyStatementsSchedule,
		workflow: workflows.CompanyStatements, args: []any{workflows.CompanyStatementsInput{}},
		catchUp: 7 * 24 * time.Hour,
	})
}
