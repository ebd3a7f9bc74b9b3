package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TaskView is one task of a worker's inbox.
type TaskView struct {
	ID            string     `json:"id"`
	CaseID        string     `json:"case_id"`
	Kind          string     `json:"kind"`
	Municipality  string     `json:"municipality"`
	Status        string     `json:"status"`
	DueAt         time.Time  `json:"due_at"`
	Overdue       bool       `json:"overdue"`
	Escalated     bool       `json:"escalated"`
	ClaimedBy     string     `json:"claimed_by,omitempty"`
	ClaimedAt     *time.Time `json:"claimed_at,omitempty"`
	Outcome       *string    `json:"outcome,omitempty"`
	ApplicantName string     `json:"applicant_name"`
	CaseStatus    string     `json:"case_status"`
	CreatedAt     time.Time  `json:"created_at"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
}

// TaskFilter narrows a task list. Status is open, claimed, active (open or
// claimed), done or all; Municipality ("" = every one the scope sees)
// narrows a supervisor's list. Sort is "" (overdue first, then by due date)
// or "due" (by due date only).
type TaskFilter struct {
	Status       string
	Overdue      bool
	Municipality string
	Sort         string
	Limit        int
	Offset       int
}

// Task list orders.
const (
	taskOrderOverdueFirst = `t.status IN ('open', 'claimed') AND t.due_at < now() DESC, t.due_at, t.id`
	taskOrderDue          = `t.due_at, t.id`
)

const taskSelect = `SELECT t.id::text, t.case_id, t.kind, t.municipality_id, t.status, t.due_at,
		t.status IN ('open', 'claimed') AND t.due_at < now(), t.escalated_at IS NOT NULL,
		coalesce(u.username, ''), t.claimed_at, t.outcome, ` + applicantNameSQL + `, c.status, t.created_at, t.completed_at
	FROM tasks t
	JOIN cases c ON c.id = t.case_id
	LEFT JOIN users u ON u.id = t.claimed_by`

func scanTask(row pgx.Row, extra ...any) (TaskView, error) {
	var t TaskView
	dest := append([]any{&t.ID, &t.CaseID, &t.Kind, &t.Municipality, &t.Status, &t.DueAt, &t.Overdue,
		&t.Escalated, &t.ClaimedBy, &t.ClaimedAt, &t.Outcome, &t.ApplicantName, &t.CaseStatus,
		&t.CreatedAt, &t.CompletedAt}, extra...)
	err := row.Scan(dest...)
	return t, err
}

// Tasks lists the tasks visible to scope, by default overdue first, then by
// due date.
func (a API) Tasks(ctx context.Context, scope Scope, f TaskFilter) ([]TaskView, int, error) {
	list := []TaskView{}
	total := 0
	var statuses []string
	switch f.Status {
	case "", "all":
	case "done":
		statuses = []string{"done", "cancelled"}
	case "active":
		statuses = []string{"open", "claimed"}
	default:
		statuses = []string{f.Status}
	}
	order := taskOrderOverdueFirst
	if f.Sort == "due" {
		order = taskOrderDue
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, taskSelect+`
			WHERE ($1::text[] IS NULL OR t.status = ANY($1))
			  AND (NOT $2 OR (t.status IN ('open', 'claimed') AND t.due_at < now()))
			  AND ($5 = '' OR t.municipality_id = $5)
			ORDER BY `+order+`
			LIMIT $3 OFFSET $4`, statuses, f.Overdue, f.Limit, f.Offset, f.Municipality)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return err
			}
			list = append(list, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM tasks t
			WHERE ($1::text[] IS NULL OR t.status = ANY($1))
			  AND (NOT $2 OR (t.status IN ('open', 'claimed') AND t.due_at < now()))
			  AND ($3 = '' OR t.municipality_id = $3)`, statuses, f.Overdue, f.Municipality).Scan(&total)
	})
	return list, total, MapError(err)
}

// Task returns one task visible to scope (ErrNotFound otherwise): this is how
// a worker of another municipality is kept away from it.
func (a API) Task(ctx context.Context, scope Scope, id string) (TaskView, error) {
	var t TaskView
	uid, err := uuid.Parse(id)
	if err != nil {
		return t, ErrNotFound
	}
	err = a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRow(ctx, taskSelect+` WHERE t.id = $1`, uid))
		return err
	})
	return t, MapError(err)
}
