package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/contract"
	"sportello/internal/i18n"
)

// Absence states, kept by the delegation workflow (defined in internal/contract).
const (
	AbsenceScheduled = contract.AbsenceScheduled
	AbsenceActive    = contract.AbsenceActive
	AbsenceEnded     = contract.AbsenceEnded
	AbsenceCancelled = contract.AbsenceCancelled
)

// AbsenceView is a staff member's absence (out of office) and their delegate
// (defined in internal/contract: the delegation workflow loads it).
type AbsenceView = contract.AbsenceView

const absenceSelect = `SELECT a.id::text, a.district_id, coalesce(a.municipality_id, ''),
		u.id, u.username, u.display_name, u.role, d.id, d.username, d.display_name, d.role,
		a.starts_at, a.ends_at, a.reason, a.status, cb.username, a.created_at, a.cancelled_at
	FROM absences a JOIN users u ON u.id = a.user_id JOIN users d ON d.id = a.delegate_id
	JOIN users cb ON cb.id = a.created_by`

func scanAbsence(row pgx.Row) (AbsenceView, error) {
	var v AbsenceView
	err := row.Scan(&v.ID, &v.District, &v.Municipality, &v.UserID, &v.Username, &v.DisplayName, &v.Role,
		&v.DelegateID, &v.Delegate, &v.DelegateName, &v.DelegateRole, &v.StartsAt, &v.EndsAt, &v.Reason, &v.Status,
		&v.CreatedBy, &v.CreatedAt, &v.CancelledAt)
	return v, err
}

// InvalidError is a request field the store refused (the API answers 422
// with it); Text says why, as a message id the adapters translate.
type InvalidError struct {
	Pointer, Code string
	Text          i18n.Message
}

func (e *InvalidError) Error() string { return e.Pointer + ": " + e.Code + ": " + e.Text.ID }

func invalidField(pointer, code, id string, args ...any) error {
	return &InvalidError{Pointer: pointer, Code: code, Text: i18n.M(id, args...)}
}

// NewAbsence is an absence to record: [StartsAt, EndsAt).
type NewAbsence struct {
	User       string // username of the absent person
	Delegate   string // username of the delegate
	StartsAt   time.Time
	EndsAt     time.Time
	Reason     string
	RecordedAt time.Time // now
}

// CreateAbsence records an absence for by (an operator records their own; a
// supervisor anyone's in the district) and, in the same transaction, calls
// start with it (which starts the delegation workflow: if that fails,
// nothing is recorded). The delegate must be able to work the same tasks: an
// operator of the same municipality or a supervisor of the district for an
// operator, a supervisor for a supervisor. Refusals: *InvalidError for the
// people and the range, a ConflictError "absence_overlap" when the person
// already has an absence in the range.
func (a API) CreateAbsence(ctx context.Context, by UserView, in NewAbsence, start func(context.Context, AbsenceView) error) (AbsenceView, error) {
	var out AbsenceView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var absent, delegate UserView
		var err error
		absent, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.username = $1 AND u.district_id = $2 AND u.role IN ('operator', 'supervisor') FOR UPDATE OF u`, in.User, by.District))
		if errors.Is(err, pgx.ErrNoRows) || err == nil && by.Role == string(contract.RoleOperator) && absent.ID != by.ID {
			return invalidField("/user", "unknown_user", "absences.err.unknown_user")
		}
		if err != nil {
			return err
		}
		delegate, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.username = $1 AND u.district_id = $2 AND u.id <> $3
			  AND (u.role = 'supervisor' OR ($4 = 'operator' AND u.role = 'operator' AND u.municipality_id = $5))`,
			in.Delegate, by.District, absent.ID, absent.Role, absent.Municipality))
		if errors.Is(err, pgx.ErrNoRows) {
			if absent.Role == string(contract.RoleSupervisor) {
				return invalidField("/delegate", "invalid_delegate", "absences.err.delegate_not_supervisor")
			}
			return invalidField("/delegate", "invalid_delegate",
				"absences.err.delegate_not_colleague")
		}
		if err != nil {
			return err
		}
		if !in.EndsAt.After(in.RecordedAt) {
			return invalidField("/to", "in_the_past", "absences.err.in_the_past")
		}
		var overlap bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM absences WHERE user_id = $1 AND status <> 'cancelled'
			AND starts_at < $3 AND $2 < ends_at)`, absent.ID, in.StartsAt, in.EndsAt).Scan(&overlap); err != nil {
			return err
		}
		if overlap {
			return Conflict("absence_overlap", absent.Username+" already has an absence in this period")
		}
		var delegateAway bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM absences WHERE user_id = $1 AND status <> 'cancelled'
			AND starts_at < $3 AND $2 < ends_at)`, delegate.ID, in.StartsAt, in.EndsAt).Scan(&delegateAway); err != nil {
			return err
		}
		if delegateAway {
			return invalidField("/delegate", "delegate_absent", "absences.err.delegate_absent", delegate.Username)
		}
		// Nobody is away while delegated: the delegation would hand them tasks.
		var delegateOf string
		err = tx.QueryRow(ctx, `SELECT u.username FROM absences a JOIN users u ON u.id = a.user_id WHERE a.delegate_id = $1
			AND a.status IN ('scheduled', 'active') AND a.starts_at < $3 AND $2 < a.ends_at ORDER BY a.starts_at LIMIT 1`,
			absent.ID, in.StartsAt, in.EndsAt).Scan(&delegateOf)
		if err == nil {
			return invalidField("/from", "delegate_in_period", "absences.err.delegate_in_period", absent.Username, delegateOf)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		id := uuid.NewString()
		var municipality any
		if absent.Role == string(contract.RoleOperator) {
			municipality = absent.Municipality
		}
		if _, err := tx.Exec(ctx, `INSERT INTO absences (id, district_id, municipality_id, user_id, delegate_id, starts_at, ends_at,
				reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, by.District, municipality, absent.ID, delegate.ID, in.StartsAt, in.EndsAt, in.Reason, by.ID, in.RecordedAt); err != nil {
			return err
		}
		if out, err = scanAbsence(tx.QueryRow(ctx, absenceSelect+` WHERE a.id = $1`, id)); err != nil {
			return err
		}
		return start(ctx, out)
	})
	var ie *InvalidError
	if errors.As(err, &ie) {
		return AbsenceView{}, ie
	}
	return out, MapError(err)
}

// Absences lists the absences visible to scope that are not over at now
// and not cancelled, soonest first.
func (a API) Absences(ctx context.Context, scope Scope, now time.Time) ([]AbsenceView, error) {
	out := []AbsenceView{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, absenceSelect+` WHERE a.district_id = $1 AND a.ends_at > $2 AND a.status <> 'cancelled'
			ORDER BY a.starts_at, u.username`, scope.District, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanAbsence(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// Absence returns one absence visible to scope (ErrNotFound otherwise).
func (a API) Absence(ctx context.Context, scope Scope, id string) (AbsenceView, error) {
	var v AbsenceView
	if _, err := uuid.Parse(id); err != nil {
		return v, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		v, err = scanAbsence(tx.QueryRow(ctx, absenceSelect+` WHERE a.id = $1`, id))
		return err
	})
	return v, MapError(err)
}

// AbsenceAt returns the absence of userID in force at at, if any.
func (a API) AbsenceAt(ctx context.Context, userID int64, at time.Time) (AbsenceView, bool, error) {
	var v AbsenceView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		v, err = scanAbsence(tx.QueryRow(ctx, absenceSelect+` WHERE a.user_id = $1 AND a.status <> 'cancelled'
			AND a.starts_at <= $2 AND $2 < a.ends_at ORDER BY a.starts_at LIMIT 1`, userID, at))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, MapError(err)
}

// LoadAbsence reads an absence for its workflow.
func (s *Store) LoadAbsence(ctx context.Context, id string) (AbsenceView, error) {
	return s.API().Absence(ctx, System, id)
}

// SetAbsenceStatus moves an absence to status from one of the states in from
// (a no-op otherwise: retries and late calls change nothing). For a
// cancellation byID records who cancelled it.
func (s *Store) SetAbsenceStatus(ctx context.Context, id, status string, from []string, byID int64, at time.Time) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE absences SET status = $2,
				cancelled_by = CASE WHEN $2 = 'cancelled' THEN nullif($4::bigint, 0) ELSE cancelled_by END,
				cancelled_at = CASE WHEN $2 = 'cancelled' THEN $5 ELSE cancelled_at END
			WHERE id = $1 AND status = ANY($3)`, id, status, from, byID, at)
		return err
	}))
}

// TaskRef names a task and its case.
type TaskRef struct {
	TaskID string
	CaseID string
}

// Handover states: planned (about to be handed), handed (with the
// delegate), skipped (the case refused the handover), returned (given back
// at the end), kept (decided by the delegate or moved on meanwhile).
const (
	HandoverPlanned  = "planned"
	HandoverHanded   = "handed"
	HandoverSkipped  = "skipped"
	HandoverReturned = "returned"
	HandoverKept     = "kept"
)

// PlanHandover records the tasks claimed by the absent person as planned
// handovers and returns every handover still planned (also those of an
// earlier attempt).
func (s *Store) PlanHandover(ctx context.Context, absenceID string, at time.Time) ([]TaskRef, error) {
	var out []TaskRef
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		// Claims by the absent person wait for this plan, then see the
		// absence active and are refused (refuseAbsentClaim): no claim
		// slips between the plan and the start of the absence.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users u JOIN absences a ON a.user_id = u.id WHERE a.id = $1 FOR UPDATE OF u`,
			absenceID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO absence_handovers (absence_id, task_id, case_id, handed_at, state)
			SELECT a.id, t.id, t.case_id, $2, 'planned' FROM absences a JOIN tasks t ON t.claimed_by = a.user_id AND t.status = 'claimed'
			WHERE a.id = $1 ON CONFLICT DO NOTHING`, absenceID, at); err != nil {
			return err
		}
		return collectTaskRefs(ctx, tx, &out, `SELECT task_id::text, case_id FROM absence_handovers
			WHERE absence_id = $1 AND state = 'planned' ORDER BY handed_at, task_id`, absenceID)
	})
	return out, MapError(err)
}

// HandedTasks lists the tasks with the delegate and whether each is still
// claimed by them and open (only those go back).
func (s *Store) HandedTasks(ctx context.Context, absenceID string) (back, kept []TaskRef, err error) {
	err = s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT h.task_id::text, h.case_id, t.status = 'claimed' AND t.claimed_by = a.delegate_id
			FROM absence_handovers h JOIN absences a ON a.id = h.absence_id JOIN tasks t ON t.id = h.task_id
			WHERE h.absence_id = $1 AND h.state = 'handed' ORDER BY h.handed_at, h.task_id`, absenceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r TaskRef
			var withDelegate bool
			if err := rows.Scan(&r.TaskID, &r.CaseID, &withDelegate); err != nil {
				return err
			}
			if withDelegate {
				back = append(back, r)
			} else {
				kept = append(kept, r)
			}
		}
		return rows.Err()
	})
	return back, kept, MapError(err)
}

func collectTaskRefs(ctx context.Context, tx pgx.Tx, out *[]TaskRef, sql string, args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r TaskRef
		if err := rows.Scan(&r.TaskID, &r.CaseID); err != nil {
			return err
		}
		*out = append(*out, r)
	}
	return rows.Err()
}

// SettleHandover moves a handover from one state to the next and, when it
// moved and action is not empty, writes the audit row (actor: the system)
// with the reason: each change is audited once, whatever the retries.
func (s *Store) SettleHandover(ctx context.Context, absenceID string, r TaskRef, from, to, action, reason string, at time.Time) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE absence_handovers SET state = $4, settled_at = $5
			WHERE absence_id = $1 AND task_id::text = $2 AND state = $3`, absenceID, r.TaskID, from, to, at)
		if err != nil || tag.RowsAffected() == 0 || action == "" {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (district_id, municipality_id, case_id, actor_username, actor_role, action, reason, detail)
			SELECT c.district_id, c.municipality_id, c.id, 'system', 'system', $2, $3,
				jsonb_build_object('task_id', $4::text, 'absence_id', $5::text)
			FROM cases c WHERE c.id = $1`, r.CaseID, action, reason, r.TaskID, absenceID)
		return err
	}))
}

// DelegationReason is what the timeline and the audit log say about a handover.
func DelegationReason(a AbsenceView, back bool) string {
	period := fmt.Sprintf("%s – %s", a.StartsAt.In(calendar.Rome()).Format("02/01/2006 15:04"), a.EndsAt.In(calendar.Rome()).Format("02/01/2006 15:04"))
	if back {
		return fmt.Sprintf("back from out of office (%s, %s): returned from %s to %s", period, a.Reason, a.Delegate, a.Username)
	}
	return fmt.Sprintf("out of office %s (%s): %s delegated to %s", period, a.Reason, a.Username, a.Delegate)
}
