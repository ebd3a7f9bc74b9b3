package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Audit actions: what a staff member (or a merchant) did.
const (
	AuditReadCase     = "read_case"     // the case (JSON or the staff case page)
	AuditReadTimeline = "read_timeline" // the case's history
	AuditReadTask     = "read_task"     // a review task (it names the applicant)
	AuditReadVoucher  = "read_voucher"  // a voucher and its movements
	AuditSearch       = "search"        // a search by tax code or case number
	AuditClaim        = "claim"
	AuditRelease      = "release"
	AuditDecide       = "decide"
	AuditRedeem       = "redeem" // a merchant's redemption: never names the case
	// AuditRefusedSuffix marks the refusal of an action recorded before it
	// was attempted ("decide" then "decide_refused").
	AuditRefusedSuffix = "_refused"
)

// AuditEntry is one row of the audit trail: who (the actor), for whom
// (ActingFor), when (At), what (Action, CaseID, Detail) and why (Reason).
// A citizen's tax code in ActingFor is stored as a reference to their
// account ("citizen:<public id>", migration 021) and read back as the
// account's tax code: once the retention run has pseudonymised the
// account, the row reads as the pseudonym, though it never changes.
type AuditEntry struct {
	ID            int64           `json:"id"`
	At            time.Time       `json:"at"`
	District      string          `json:"district"`
	Municipality  string          `json:"municipality,omitempty"`
	CaseID        string          `json:"case_id,omitempty"`
	ActorID       int64           `json:"actor_id,omitempty"`
	ActorUsername string          `json:"actor_username"`
	ActorRole     string          `json:"actor_role"`
	ActingFor     string          `json:"acting_for,omitempty"`
	Action        string          `json:"action"`
	Reason        string          `json:"reason"`
	Detail        json.RawMessage `json:"detail"`
	RequestID     string          `json:"request_id,omitempty"`
}

// AuditFilter selects audit rows: by case, by actor (username, any case),
// newest first.
type AuditFilter struct {
	CaseID string
	Actor  string
	Limit  int // 50 when not positive, at most 500
	Offset int
}

// ErrAuditUnavailable wraps every failure to write an audit row: the caller
// must not go on with what it was about to show or do.
var ErrAuditUnavailable = errors.New("audit trail unavailable")

// Audit appends e to the audit trail under the caller's scope. The actor
// defaults to the scope's user and role; district and municipality default
// to the case's (when e names one visible to scope), else to the scope's.
// Row-level security lets staff and merchants write rows about themselves
// only. Every failure wraps ErrAuditUnavailable.
func (a API) Audit(ctx context.Context, scope Scope, e AuditEntry) error {
	return a.appendAudit(ctx, scope, e, false)
}

// AuditWritable checks that e could be appended now: the same insert, rolled
// back. An action is attempted only when its row can be written after it.
// Every failure wraps ErrAuditUnavailable.
func (a API) AuditWritable(ctx context.Context, scope Scope, e AuditEntry) error {
	return a.appendAudit(ctx, scope, e, true)
}

// errAuditDryRun rolls back AuditWritable's insert.
var errAuditDryRun = errors.New("audit: dry run")

func (a API) appendAudit(ctx context.Context, scope Scope, e AuditEntry, dryRun bool) error {
	if e.ActorID == 0 {
		e.ActorID = scope.UserID
	}
	if e.ActorRole == "" {
		e.ActorRole = scope.Kind
	}
	if e.ActorUsername == "" && scope.Kind == System.Kind {
		e.ActorUsername = "system"
	}
	detail := e.Detail
	if len(detail) == 0 || string(detail) == "null" {
		detail = json.RawMessage(`{}`)
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		district, municipality := e.District, e.Municipality
		if e.CaseID != "" && (district == "" || municipality == "") {
			var d, m string
			err := tx.QueryRow(ctx, `SELECT district_id, municipality_id FROM cases WHERE id = $1`, e.CaseID).Scan(&d, &m)
			switch {
			case err == nil:
				if district == "" {
					district = d
				}
				if municipality == "" {
					municipality = m
				}
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		if district == "" {
			district = scope.District
		}
		if municipality == "" {
			municipality = scope.Municipality
		}
		_, err := tx.Exec(ctx, `INSERT INTO audit_log (district_id, municipality_id, case_id, actor_id,
			actor_username, actor_role, acting_for, action, reason, detail, request_id)
			VALUES (nullif($1, ''), nullif($2, ''), nullif($3, ''), nullif($4, 0::bigint), $5, $6, sportello_audit_subject($7), $8, $9, $10, $11)`,
			district, municipality, e.CaseID, e.ActorID, e.ActorUsername, e.ActorRole, e.ActingFor,
			e.Action, e.Reason, detail, e.RequestID)
		if err == nil && dryRun {
			return errAuditDryRun
		}
		return err
	})
	if errors.Is(err, errAuditDryRun) {
		return nil
	}
	if err != nil {
		return errors.Join(ErrAuditUnavailable, err)
	}
	return nil
}

// queueCaseAudit queues in b the audit row e about case e.CaseID, written
// under scope as appendAudit writes it, but only when the case is visible
// to scope (INSERT ... SELECT from cases: nothing when it is not), with the
// case's district and municipality unless e names them. Its failure is
// returned wrapping ErrAuditUnavailable.
func queueCaseAudit(b *pgx.Batch, scope Scope, e AuditEntry) {
	if e.ActorID == 0 {
		e.ActorID = scope.UserID
	}
	if e.ActorRole == "" {
		e.ActorRole = scope.Kind
	}
	detail := e.Detail
	if len(detail) == 0 || string(detail) == "null" {
		detail = json.RawMessage(`{}`)
	}
	qq := b.Queue(`INSERT INTO audit_log (district_id, municipality_id, case_id, actor_id,
			actor_username, actor_role, acting_for, action, reason, detail, request_id)
		SELECT coalesce(nullif($1, ''), c.district_id), coalesce(nullif($2, ''), c.municipality_id), c.id,
			nullif($4, 0::bigint), $5, $6, sportello_audit_subject($7), $8, $9, $10, $11
		FROM cases c WHERE c.id = $3`,
		e.District, e.Municipality, e.CaseID, e.ActorID, e.ActorUsername, e.ActorRole, e.ActingFor,
		e.Action, e.Reason, detail, e.RequestID)
	qq.Fn = func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return errors.Join(ErrAuditUnavailable, err)
		}
		return nil
	}
}

// AuditLog lists the audit rows visible to scope (a supervisor: their
// district; anyone else: none), newest first, with the number of rows that
// match the filter.
func (a API) AuditLog(ctx context.Context, scope Scope, f AuditFilter) ([]AuditEntry, int, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	where := ` WHERE true`
	args := pgx.NamedArgs{"limit": f.Limit, "offset": f.Offset}
	if f.CaseID != "" {
		where += ` AND case_id = @case_id`
		args["case_id"] = strings.ToUpper(strings.TrimSpace(f.CaseID))
	}
	if f.Actor != "" {
		where += ` AND lower(actor_username) = lower(@actor)`
		args["actor"] = strings.TrimSpace(f.Actor)
	}
	if scope.Kind != System.Kind {
		// The policy decides; naming the district lets the planner use the index.
		where += ` AND district_id = @scope_district`
		args["scope_district"] = scope.District
	}
	items := []AuditEntry{}
	total := 0
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		items, total = items[:0], 0
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log`+where, args).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, at, district_id, coalesce(municipality_id, ''), coalesce(case_id, ''),
			coalesce(actor_id, 0), actor_username, actor_role, sportello_audit_subject_name(acting_for), action, reason, detail, request_id
			FROM audit_log`+where+` ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`, args)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e AuditEntry
			if err := rows.Scan(&e.ID, &e.At, &e.District, &e.Municipality, &e.CaseID, &e.ActorID, &e.ActorUsername,
				&e.ActorRole, &e.ActingFor, &e.Action, &e.Reason, &e.Detail, &e.RequestID); err != nil {
				rows.Close()
				return err
			}
			items = append(items, e)
		}
		return rows.Err()
	})
	return items, total, MapError(err)
}
