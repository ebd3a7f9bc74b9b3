package privacy

import (
	"context"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/store"
)

// RetentionRunsShown is how many recorded runs RetentionRuns lists.
const RetentionRunsShown = 50

// RetentionReport is the retention schedule as supervisors see it: the
// period in force and the newest recorded runs, newest first.
type RetentionReport struct {
	RetentionDays int                  `json:"retention_days"`
	Items         []store.RetentionRun `json:"items"`
}

// RetentionRuns is the report of the retention runs for a supervisor
// (Forbidden for anyone else), with the configured period days
// (DefaultRetentionDays when not positive). A run is the system's, across
// districts (it writes its audit row in every district's trail), so every
// supervisor reads every run: a run holds counts, no personal data.
func (s Service) RetentionRuns(ctx context.Context, user store.UserView, days int) (RetentionReport, error) {
	if user.Role != string(contract.RoleSupervisor) {
		return RetentionReport{}, app.Refuse(app.Forbidden, "forbidden", "only supervisors read the retention runs")
	}
	runs, err := s.Store.RetentionRuns(ctx, RetentionRunsShown)
	if err != nil {
		return RetentionReport{}, err
	}
	if runs == nil {
		runs = []store.RetentionRun{}
	}
	return RetentionReport{RetentionDays: RetentionDaysOr(days), Items: runs}, nil
}
