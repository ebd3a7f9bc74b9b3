package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
)

// CodeOutOfOffice is the ConflictError code of a claim by someone out of
// office.
const CodeOutOfOffice = "out_of_office"

// refuseAbsentClaim refuses a claim by userID at at when they are out of
// office then: an absence not cancelled nor ended that has started (by its
// range, or because its delegation already marked it active) and not
// reached its end. It holds a share lock on the user's row until the claim
// commits, so that the delegation's handover plan (PlanHandover, which
// locks the row for update) either sees the claim or is seen by it.
func refuseAbsentClaim(ctx context.Context, tx pgx.Tx, userID int64, at time.Time) error {
	if userID == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR SHARE`, userID); err != nil {
		return err
	}
	var delegate string
	var ends time.Time
	err := tx.QueryRow(ctx, `SELECT d.username, a.ends_at FROM absences a JOIN users d ON d.id = a.delegate_id
		WHERE a.user_id = $1 AND a.status IN ('scheduled', 'active') AND $2 < a.ends_at
		  AND (a.starts_at <= $2 OR a.status = 'active')
		ORDER BY a.starts_at LIMIT 1`, userID, at).Scan(&delegate, &ends)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return Conflict(CodeOutOfOffice, OutOfOfficeMessage(ends, delegate))
}

// OutOfOfficeMessage explains why someone out of office cannot claim a task.
func OutOfOfficeMessage(ends time.Time, delegate string) string {
	until := ends.In(calendar.Rome()).Add(-time.Minute).Format("02/01/2006")
	return "you are out of office until " + until + ": during an absence your tasks go to your delegate (" + delegate +
		"), so you cannot claim one; if you are back, cancel the absence first"
}
