package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// TeamView is a team (candidate group) as the inbox shows it.
type TeamView struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Municipality string `json:"municipality,omitempty"`
	AutoAssign   bool   `json:"auto_assign"`
	Member       bool   `json:"member"` // the caller belongs to it
}

// Teams lists the teams of the scope's district, by name; Member says
// whether scope's user belongs to each.
func (a API) Teams(ctx context.Context, scope Scope) ([]TeamView, error) {
	out := []TeamView{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT t.id, t.name, coalesce(t.municipality_id, ''), t.auto_assign,
				EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.user_id = $2)
			FROM teams t WHERE t.district_id = $1 ORDER BY t.name, t.id`, scope.District, scope.UserID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t TeamView
			if err := rows.Scan(&t.ID, &t.Name, &t.Municipality, &t.AutoAssign, &t.Member); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// Candidate is a staff member a task can be given to.
type Candidate struct {
	UserID   int64
	Username string
	Role     string
}

// PickInput asks for the least loaded candidate of an open task.
type PickInput struct {
	TaskID        string
	ExcludeUserID int64     // the first approver, for a second approval (0: nobody)
	At            time.Time // absences are judged at this time
}

// AutoAssignReason is the reason recorded for an automatic assignment
// (defined in internal/contract).
const AutoAssignReason = contract.AutoAssignReason

// PickLeastLoaded chooses who gets an open task when automatic assignment
// is on for its fund or its team: among the task's candidate group (the
// team's members, else the municipality's operators; the district's
// supervisors for a second approval), leaving out anyone out of office at
// in.At and ExcludeUserID, the person with the fewest claimed tasks; ties go
// to whoever was given a task least recently, then by username. Operators
// only get tasks of their own municipality (the only ones they can see).
// ok is false when automatic assignment is off, the task is no longer open,
// or nobody is available.
//
// Once a choice was given (AssignTask recorded a task_assigned event with
// AutoAssignReason for the task), PickLeastLoaded answers that choice again,
// whatever the loads and absences are now: the choice is made once per
// task. The workflow asks again only when the workflow task that asked
// first was lost after AssignTask committed (a worker killed, a history
// service restarted, a timeout; docs/operations.md), and it must then give
// the task to the person the inbox and the timeline already name, not to
// whoever is least loaded now (the first assignee, whose load now counts
// this task) nor leave it, as a task no longer open did, unclaimed in the
// workflow while the inbox shows it claimed.
func (s *Store) PickLeastLoaded(ctx context.Context, in PickInput) (c Candidate, ok bool, err error) {
	err = s.InTx(ctx, System, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT u.id, u.username, u.role FROM tasks t
			JOIN case_events e ON e.case_id = t.case_id AND e.type = 'task_assigned'
				AND e.detail->>'task_id' = t.id::text AND e.detail->>'reason' = $2
			JOIN users u ON u.username = e.detail->>'assignee'
			WHERE t.id = $1 ORDER BY e.at, e.id LIMIT 1`, in.TaskID, AutoAssignReason).Scan(&c.UserID, &c.Username, &c.Role)
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return tx.QueryRow(ctx, `WITH t AS (
				SELECT t.kind, t.team_id, t.district_id, t.municipality_id
				FROM tasks t JOIN cases c ON c.id = t.case_id JOIN funds f ON f.id = c.fund_id
				LEFT JOIN teams tm ON tm.id = t.team_id
				WHERE t.id = $1 AND t.status = 'open' AND (f.auto_assign OR coalesce(tm.auto_assign, false)))
			SELECT u.id, u.username, u.role FROM t JOIN users u ON u.district_id = t.district_id
			WHERE CASE
					WHEN t.kind = 'second_approval' THEN u.role = 'supervisor'
					WHEN t.team_id IS NOT NULL THEN u.role IN ('operator', 'supervisor')
						AND EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id AND m.user_id = u.id)
					ELSE u.role = 'operator'
				END
			  AND (u.role <> 'operator' OR u.municipality_id = t.municipality_id)
			  AND u.id <> $2
			  AND NOT `+absentAt("u.id", "$3")+`
			ORDER BY (SELECT count(*) FROM tasks x WHERE x.claimed_by = u.id AND x.status = 'claimed'),
				(SELECT max(x.claimed_at) FROM tasks x WHERE x.claimed_by = u.id) ASC NULLS FIRST,
				u.username
			LIMIT 1`, in.TaskID, in.ExcludeUserID, in.At).Scan(&c.UserID, &c.Username, &c.Role)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Candidate{}, false, nil
	}
	if err != nil {
		return Candidate{}, false, MapError(err)
	}
	return c, true, nil
}

// absentAt is the SQL condition "user is out of office at time at".
func absentAt(user, at string) string {
	return `EXISTS (SELECT 1 FROM absences a WHERE a.user_id = ` + user + ` AND a.status <> 'cancelled'
		AND a.starts_at <= ` + at + ` AND ` + at + ` < a.ends_at)`
}

// TeamMine is the task filter "the teams I belong to".
const TeamMine = "mine"

// teamTaskSQL narrows tasks t to a team filter (see TaskFilter.Team).
func teamTaskSQL(team string) string {
	switch team {
	case "":
		return ""
	case TeamMine:
		return ` AND t.team_id IN (SELECT m.team_id FROM team_members m WHERE m.user_id = @user)`
	}
	return ` AND t.team_id = @team`
}
