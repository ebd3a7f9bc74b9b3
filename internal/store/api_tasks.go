package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
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
	Team          string     `json:"team,omitempty"`      // id of the candidate group, "" for the municipality's queue
	TeamName      string     `json:"team_name,omitempty"` // its name
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

	// Team is "" (every task), TeamMine (the teams of the scope's user) or a team id.
	Team string
	// CountCap bounds the count of the list (TaskCountCap when 0).
	CountCap int
}

// Task list orders.
const (
	taskOrderOverdueFirst = `t.status IN ('open', 'claimed') AND t.due_at < now() DESC, t.due_at, t.id`
	taskOrderDue          = `t.due_at, t.id`
)

const taskSelect = `SELECT t.id::text, t.case_id, t.kind, t.municipality_id, t.status, t.due_at,
		t.status IN ('open', 'claimed') AND t.due_at < now(), t.escalated_at IS NOT NULL,
		coalesce(u.username, ''), t.claimed_at, t.outcome, ` + applicantNameSQL + `, c.status, t.created_at, t.completed_at,
		coalesce(t.team_id, ''), coalesce(tm.name, '')
	FROM tasks t
	JOIN cases c ON c.id = t.case_id
	LEFT JOIN users u ON u.id = t.claimed_by
	LEFT JOIN teams tm ON tm.id = t.team_id`

func scanTask(row pgx.Row, extra ...any) (TaskView, error) {
	var t TaskView
	dest := append([]any{&t.ID, &t.CaseID, &t.Kind, &t.Municipality, &t.Status, &t.DueAt, &t.Overdue,
		&t.Escalated, &t.ClaimedBy, &t.ClaimedAt, &t.Outcome, &t.ApplicantName, &t.CaseStatus,
		&t.CreatedAt, &t.CompletedAt, &t.Team, &t.TeamName}, extra...)
	err := row.Scan(dest...)
	return t, err
}

// TaskCountCap is how many tasks a task list counts at most: beyond it the
// list says "more than TaskCountCap" (Count.More), as case lists do. An
// exact count of a municipality's open tasks reads every one of them
// (thousands in a backlog) on each request for a page of 50.
const TaskCountCap = 1_000

// Tasks lists the tasks visible to scope, by default overdue first, then by
// due date, with their count: exact when there are at most the cap
// (f.CountCap, TaskCountCap when 0) or the page is the last one, else a lower bound (Count.More) that is
// never less than the tasks up to the end of this page, so that a full page
// always has a next one.
//
// Row-level security decides what is visible. The query also names the
// scope's own district and municipality as plain column predicates
// (tenantTaskSQL): they select exactly the rows the policy lets through, and
// unlike the policy they let PostgreSQL walk an index in due-date order and
// stop after one page, instead of checking every task in the database.
// The page and its count go in one round trip with the scope, planned
// once per connection (pipeline, generic plans).
func (a API) Tasks(ctx context.Context, scope Scope, f TaskFilter) ([]TaskView, Count, error) {
	list := []TaskView{}
	args := pgx.NamedArgs{"status": f.Status, "municipality": f.Municipality,
		"scope_district": scope.District, "scope_municipality": scope.Municipality, "team": f.Team, "user": scope.UserID}
	// activeOnly: every row listed is open or claimed, or none is; then
	// "overdue first, then by due date" is simply the due-date order, since a
	// task is overdue exactly when its due date has passed.
	var where string
	activeOnly := true
	switch f.Status {
	case "", "all":
		activeOnly = false
	case "done":
		where += ` AND t.status IN ('done', 'cancelled')`
	case "active":
		where += ` AND t.status IN ('open', 'claimed')`
	default:
		where += ` AND t.status = @status`
	}
	if f.Overdue {
		activeOnly = true
		where += ` AND t.status IN ('open', 'claimed') AND t.due_at < now()`
	}
	if f.Municipality != "" {
		where += ` AND t.municipality_id = @municipality`
	}
	// Contact tasks have their own list (ContactTasks): nobody reviews them.
	where += ` AND t.kind <> 'contact'` + teamTaskSQL(f.Team) + tenantTaskSQL(scope)
	order := taskOrderOverdueFirst
	if f.Sort == "due" || activeOnly {
		order = taskOrderDue
	}
	pageArgs := pgx.NamedArgs{"limit": f.Limit, "offset": f.Offset}
	for k, v := range args {
		pageArgs[k] = v
	}
	// Count no further than the cap, or than the end of this page.
	capN := f.CountCap
	if capN <= 0 {
		capN = TaskCountCap
	}
	bound := max(capN, f.Offset+f.Limit)
	args["bound"] = bound + 1
	b := &pgx.Batch{}
	b.Queue(taskSelect+`
			WHERE true`+where+`
			ORDER BY `+order+`
			LIMIT @limit OFFSET @offset`, pageArgs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return err
			}
			list = append(list, t)
		}
		return rows.Err()
	})
	var n int
	b.Queue(`SELECT count(*) FROM (SELECT 1 FROM tasks t WHERE true`+where+` LIMIT @bound) AS visible`, args).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if err := a.s.pipeline(ctx, scope, b, true); err != nil {
		return []TaskView{}, Count{}, MapError(err)
	}
	return list, boundedTotal(n, bound, f.Limit, f.Offset, len(list)), nil
}

// tenantTaskSQL is the tenant of scope as predicates on tasks t: the same
// rows the tasks_tenant policy admits for staff, written so that indexes on
// (district_id, municipality_id, ...) apply. It never widens what the policy
// admits (the policy still applies); for other scopes it adds nothing.
func tenantTaskSQL(scope Scope) string {
	switch scope.Kind {
	case string(contract.RoleOperator):
		return ` AND t.district_id = @scope_district AND t.municipality_id = @scope_municipality`
	case string(contract.RoleSupervisor):
		return ` AND t.district_id = @scope_district`
	}
	return ""
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

// boundedTotal is a list's total from its bounded count n (counted up to
// bound+1) and the page read (got rows at offset, limit asked): a page that
// is not full ends the list and gives the exact total; beyond bound the
// total is bound and More says there are more.
func boundedTotal(n, bound, limit, offset, got int) Count {
	switch {
	case limit > 0 && (got > 0 && got < limit || got == 0 && offset == 0):
		return Count{N: offset + got}
	case n > bound:
		return Count{N: bound, More: true}
	}
	return Count{N: n}
}
