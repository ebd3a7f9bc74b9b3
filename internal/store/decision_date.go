package store

import (
	"context"
	"time"

	"sportello/internal/calendar"
)

// DecisionExpected is when the applicant of a case can expect an answer:
// the filing plus the fund's review time (review_working_days, the
// service's SLA) in the municipality's office calendar, the same rule the
// case workflow gives its review task's due date.
func DecisionExpected(c CaseInfo) time.Time {
	return calendar.Office(c.Office).Due(c.CreatedAt, c.Fund.ReviewWorkingDays)
}

// CaseDecisionExpected is DecisionExpected of the case caseID.
func (s *Store) CaseDecisionExpected(ctx context.Context, caseID string) (time.Time, error) {
	c, err := s.LoadCase(ctx, caseID)
	if err != nil {
		return time.Time{}, err
	}
	return DecisionExpected(c), nil
}
