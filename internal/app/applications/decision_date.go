package applications

import (
	"context"
	"encoding/json"
	"time"

	"sportello/internal/store"
)

// DecisionExpected is when the applicant can expect an answer to a case
// still being decided (ok false once it is decided, or while the office
// waits for the citizen): the due date of the latest review opened, or,
// before the first one opens, the filing plus the fund's review time in
// the municipality's office calendar (store.DecisionExpected). v is a case
// the caller may read, events its timeline.
func (s Service) DecisionExpected(ctx context.Context, v store.CaseView, events []store.CaseEvent) (time.Time, bool, error) {
	if v.Status != "submitted" && v.Status != "in_review" {
		return time.Time{}, false, nil
	}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type != "task_opened" {
			continue
		}
		var d struct {
			DueAt *time.Time `json:"due_at"`
		}
		if json.Unmarshal(events[i].Detail, &d) == nil && d.DueAt != nil {
			return *d.DueAt, true, nil
		}
		break
	}
	due, err := s.Store.CaseDecisionExpected(ctx, v.ID)
	if err != nil {
		return time.Time{}, false, err
	}
	return due, true, nil
}
