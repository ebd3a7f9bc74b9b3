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
	if taskQueue == "" {
		taskQueue = workflows.TaskQueue
	}
	err := ensureSchedule(ctx, c.ScheduleClient(), client.ScheduleOptions{
		ID:   contract.CompanyStatementsScheduleID,
		Spec: CompanyStatementsSchedule,
		Action: &client.ScheduleWorkflowAction{
			ID:        "company-statements-run",
			Workflow:  workflows.CompanyStatements,
			Args:      []any{workflows.CompanyStatementsInput{}},
			TaskQueue: taskQueue,
		},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 7 * 24 * time.Hour,
		Note:          "Sportello monthly company statements",
	})
	if err != nil {
		return fmt.Errorf("company statements schedule: %w", err)
	}
	return nil
}
