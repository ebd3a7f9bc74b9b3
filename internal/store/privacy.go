package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Privacy (issue 13, part 5): everything held about one citizen, for their
// download (PersonalData), and the retention run that pseudonymises the
// citizens whose records are all closed and older than the retention
// period (Pseudonymise). README "Privacy and record of processing" says
// what is kept, why and for how long.

// PersonalExport is everything Sportello holds about one citizen, one
// section per kind of record, each a JSON array of rows (an object for the
// person). Secrets (password and code hashes, session tokens) and the
// identities of staff members are left out; the audit rows about the
// citizen name the staff member's role, not their name.
type PersonalExport struct {
	GeneratedAt     time.Time       `json:"generated_at"`
	Person          json.RawMessage `json:"person"`
	Registry        json.RawMessage `json:"registry"`         // the municipality's resident register (residence check)
	Sessions        json.RawMessage `json:"sessions"`         // sign-ins: when, until when (no token)
	ActivationCodes json.RawMessage `json:"activation_codes"` // codes issued at the desk (no code)
	Recoveries      json.RawMessage `json:"recoveries"`
	Cases           json.RawMessage `json:"cases"` // with the answers of the form
	CaseEvents      json.RawMessage `json:"case_events"`
	Tasks           json.RawMessage `json:"tasks"` // the reviews of the cases
	Vouchers        json.RawMessage `json:"vouchers"`
	Movements       json.RawMessage `json:"movements"` // ledger transfers of the vouchers and bookings
	Redemptions     json.RawMessage `json:"redemptions"`
	Bookings        json.RawMessage `json:"bookings"`
	BookingSessions json.RawMessage `json:"booking_sessions"`
	Cart            json.RawMessage `json:"cart"`
	Appointments    json.RawMessage `json:"appointments"`
	ContactTasks    json.RawMessage `json:"contact_tasks"` // phone calls and letters when e-mail was not possible
	Notifications   json.RawMessage `json:"notifications"` // e-mails and messages sent
	Audit           json.RawMessage `json:"audit"`         // who (by role) read or did what about the citizen
}

// exportQueries are PersonalExport's sections: $1 is the user's id. Each
// returns one JSON value.
var exportQueries = []struct {
	name  string
	query string
}{
	{"person", `SELECT jsonb_build_object('public_id', u.public_id, 'username', u.username, 'display_name', u.display_name,
		'tax_code', u.tax_code, 'email', u.email, 'phone', u.phone, 'postal_address', u.postal_address,
		'home_delivery', u.home_delivery, 'isee_euro', u.isee_euro, 'isee_updated_at', u.isee_updated_at,
		'district_id', u.district_id, 'municipality_id', u.municipality_id, 'status', u.status,
		'registered_at', u.registered_at, 'created_at', u.created_at, 'pseudonymised_at', u.pseudonymised_at)
		FROM users u WHERE u.id = $1`},
	{"registry", `SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]') FROM residents r
		WHERE r.tax_code = (SELECT tax_code FROM users WHERE id = $1)`},
	{"sessions", `SELECT coalesce(jsonb_agg(jsonb_build_object('created_at', s.created_at, 'last_seen_at', s.last_seen_at,
		'expires_at', s.expires_at) ORDER BY s.created_at), '[]') FROM auth_sessions s WHERE s.user_id = $1`},
	{"activation_codes", `SELECT coalesce(jsonb_agg(jsonb_build_object('issued_at', a.issued_at, 'expires_at', a.expires_at,
		'used_at', a.used_at, 'revoked_at', a.revoked_at, 'locked_at', a.locked_at, 'failures', a.failures)
		ORDER BY a.issued_at), '[]') FROM activation_codes a WHERE a.user_id = $1`},
	{"recoveries", `SELECT coalesce(jsonb_agg(jsonb_build_object('requested_at', r.requested_at, 'channel', r.channel,
		'status', r.status, 'decided_at', r.decided_at) ORDER BY r.requested_at), '[]')
		FROM account_recoveries r WHERE r.user_id = $1`},
	{"cases", `SELECT coalesce(jsonb_agg(to_jsonb(c) - 'applicant_id' - 'request_hash' - 'idempotency_key' - 'workflow_id'
		ORDER BY c.created_at), '[]') FROM cases c WHERE c.applicant_id = $1`},
	{"case_events", `SELECT coalesce(jsonb_agg(jsonb_build_object('case_id', e.case_id, 'at', e.at, 'type', e.type,
		'detail', e.detail) ORDER BY e.at, e.id), '[]')
		FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.applicant_id = $1`},
	{"tasks", `SELECT coalesce(jsonb_agg(jsonb_build_object('case_id', t.case_id, 'kind', t.kind, 'status', t.status,
		'created_at', t.created_at, 'due_at', t.due_at, 'completed_at', t.completed_at, 'outcome', t.outcome, 'note', t.note)
		ORDER BY t.created_at), '[]') FROM tasks t JOIN cases c ON c.id = t.case_id WHERE c.applicant_id = $1`},
	{"vouchers", `SELECT coalesce(jsonb_agg(to_jsonb(v) - 'holder_id'
		|| jsonb_build_object('available_cents', coalesce(av.balance_cents, 0), 'pending_cents', coalesce(pe.balance_cents, 0))
		ORDER BY v.created_at), '[]') FROM vouchers v
		LEFT JOIN accounts av ON av.id = 'voucher:' || v.id::text
		LEFT JOIN accounts pe ON pe.id = 'voucher:' || v.id::text || ':pending'
		WHERE v.holder_id = $1`},
	{"movements", `SELECT coalesce(jsonb_agg(jsonb_build_object('at', t.created_at, 'kind', t.kind, 'amount_cents', t.amount_cents,
		'voucher_id', t.voucher_id, 'booking_id', t.booking_id) ORDER BY t.created_at, t.id), '[]') FROM transfers t
		WHERE t.voucher_id IN (SELECT id FROM vouchers WHERE holder_id = $1)
		   OR t.booking_id IN (SELECT id FROM bookings WHERE citizen_id = $1)`},
	{"redemptions", `SELECT coalesce(jsonb_agg(jsonb_build_object('at', r.created_at, 'voucher_id', r.voucher_id,
		'merchant', m.name, 'amount_cents', r.amount_cents, 'remaining_cents', r.remaining_cents) ORDER BY r.created_at), '[]')
		FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id JOIN merchants m ON m.id = r.merchant_id
		WHERE v.holder_id = $1`},
	{"bookings", `SELECT coalesce(jsonb_agg(to_jsonb(b) - 'citizen_id' - 'idempotency_key' - 'request_hash' - 'workflow_id'
		ORDER BY b.created_at), '[]') FROM bookings b WHERE b.citizen_id = $1`},
	{"booking_sessions", `SELECT coalesce(jsonb_agg(to_jsonb(s) - 'delivered_by' ORDER BY s.booking_id, s.seq), '[]')
		FROM booking_sessions s JOIN bookings b ON b.id = s.booking_id WHERE b.citizen_id = $1`},
	{"cart", `SELECT coalesce(jsonb_agg(jsonb_build_object('service_id', ci.service_id, 'quantity', ci.quantity,
		'added_at', ci.added_at) ORDER BY ci.added_at), '[]') FROM cart_items ci WHERE ci.user_id = $1`},
	{"appointments", `SELECT coalesce(jsonb_agg(to_jsonb(a) - 'citizen_id' - 'idempotency_key' - 'workflow_id' - 'closed_by'
		|| jsonb_build_object('social_point', p.name) ORDER BY a.starts_at), '[]')
		FROM appointments a JOIN social_points p ON p.id = a.point_id WHERE a.citizen_id = $1`},
	{"contact_tasks", `SELECT coalesce(jsonb_agg(to_jsonb(ct) - 'citizen_id' || jsonb_build_object('created_at', t.created_at,
		'status', t.status) ORDER BY t.created_at), '[]') FROM contact_tasks ct JOIN tasks t ON t.id = ct.task_id
		WHERE ct.citizen_id = $1`},
	{"notifications", `SELECT coalesce(jsonb_agg(jsonb_build_object('case_id', n.case_id, 'kind', n.kind, 'channel', n.channel,
		'recipient', n.recipient, 'lang', n.lang, 'subject', n.subject, 'status', n.status, 'created_at', n.created_at,
		'sent_at', n.sent_at) ORDER BY n.created_at, n.id), '[]') FROM notifications n
		WHERE n.case_id IN (SELECT id FROM cases WHERE applicant_id = $1)
		   OR n.recipient = (SELECT email FROM users WHERE id = $1 AND email <> '')`},
	// The trail is readable by supervisors alone: a function reads it.
	{"audit", `SELECT sportello_audit_about($1)`},
}

// PersonalData reads everything held about the citizen userID, in one
// transaction. It reads across tables the citizen's own scope does
// not reach (the audit trail, the tasks of their cases), so the caller
// must be that citizen (internal/app/privacy checks it); every query names
// userID. ErrNotFound when there is no such citizen.
func (s *Store) PersonalData(ctx context.Context, userID int64, now time.Time) (PersonalExport, error) {
	out := PersonalExport{GeneratedAt: now.UTC()}
	dest := map[string]*json.RawMessage{
		"person": &out.Person, "registry": &out.Registry, "sessions": &out.Sessions,
		"activation_codes": &out.ActivationCodes, "recoveries": &out.Recoveries, "cases": &out.Cases,
		"case_events": &out.CaseEvents, "tasks": &out.Tasks, "vouchers": &out.Vouchers, "movements": &out.Movements,
		"redemptions": &out.Redemptions, "bookings": &out.Bookings, "booking_sessions": &out.BookingSessions,
		"cart": &out.Cart, "appointments": &out.Appointments, "contact_tasks": &out.ContactTasks,
		"notifications": &out.Notifications, "audit": &out.Audit,
	}
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		var role string
		if err := tx.QueryRow(ctx, `SELECT role FROM users WHERE id = $1`, userID).Scan(&role); err != nil {
			return err
		}
		if role != "citizen" {
			return ErrNotFound
		}
		for _, q := range exportQueries {
			var raw []byte
			if err := tx.QueryRow(ctx, q.query, userID).Scan(&raw); err != nil {
				return fmt.Errorf("export %s: %w", q.name, err)
			}
			*dest[q.name] = raw
		}
		return nil
	})
	return out, MapError(err)
}

// RetentionInput is one retention run.
type RetentionInput struct {
	RunKey        string    // the run's id: a second call with the same key returns the recorded run
	Cutoff        time.Time // citizens whose records were all last touched before it are due
	RetentionDays int       // the period, recorded with the run
	Limit         int       // at most this many citizens per run (500 when not positive)
	// Pseudonym gives the stable pseudonym of a citizen's tax code (or,
	// without one, of their user id): a keyed HMAC (privacy.Pseudonymiser).
	Pseudonym func(subject string) string
}

// RetentionRun is the record of one run (table retention_runs).
type RetentionRun struct {
	ID            int64     `json:"id"`
	RunKey        string    `json:"run_key"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Cutoff        time.Time `json:"cutoff"`
	RetentionDays int       `json:"retention_days"`
	People        int       `json:"people"`
	Cases         int       `json:"cases"`
	Kept          int       `json:"kept"`
	More          bool      `json:"more"`
}

// Open, unspent and unpaid: what keeps a due citizen's data as it is.
const (
	// retentionTouched: the citizen's records last touched at or after
	// @cutoff (a case, a voucher's expiry, a booking, an appointment, a
	// sign-in), for citizen u.
	retentionTouched = `(
		EXISTS (SELECT 1 FROM cases c WHERE c.applicant_id = u.id AND c.updated_at >= @cutoff)
		OR EXISTS (SELECT 1 FROM vouchers v WHERE v.holder_id = u.id AND v.expires_at >= @cutoff)
		OR EXISTS (SELECT 1 FROM bookings b WHERE b.citizen_id = u.id AND b.updated_at >= @cutoff)
		OR EXISTS (SELECT 1 FROM appointments a WHERE a.citizen_id = u.id AND a.starts_at >= @cutoff)
		OR EXISTS (SELECT 1 FROM auth_sessions s WHERE s.user_id = u.id AND s.last_seen_at >= @cutoff))`
	// retentionOpen: something of citizen u still open whatever its age:
	// a case under way, a voucher with money on it, a booking not
	// completed or cancelled (or whose payment is pending), an appointment
	// still booked, a contact task still to do.
	retentionOpen = `(
		EXISTS (SELECT 1 FROM cases c WHERE c.applicant_id = u.id AND c.status IN ('submitted','in_review','info_requested'))
		OR EXISTS (SELECT 1 FROM vouchers v JOIN accounts acc
			ON acc.id IN ('voucher:' || v.id::text, 'voucher:' || v.id::text || ':pending')
			WHERE v.holder_id = u.id AND acc.balance_cents <> 0)
		OR EXISTS (SELECT 1 FROM bookings b WHERE b.citizen_id = u.id
			AND (b.status NOT IN ('completed','cancelled') OR b.payment_status = 'pending'))
		OR EXISTS (SELECT 1 FROM appointments a WHERE a.citizen_id = u.id AND a.status = 'booked')
		OR EXISTS (SELECT 1 FROM contact_tasks ct JOIN tasks t ON t.id = ct.task_id
			WHERE ct.citizen_id = u.id AND t.status IN ('open','claimed')))`
	// retentionCandidates: citizens not yet pseudonymised who filed at
	// least one case and whose records are all older than @cutoff.
	retentionCandidates = `FROM users u WHERE u.role = 'citizen' AND u.pseudonymised_at IS NULL
		AND EXISTS (SELECT 1 FROM cases c WHERE c.applicant_id = u.id)
		AND NOT ` + retentionTouched
)

// Pseudonymise runs one retention run in one transaction: it records the
// run (retention_runs) and its audit row, and replaces the personal fields
// of up to in.Limit due citizens (retentionCandidates, none of whose
// records is open) by their pseudonym. A run key already recorded returns
// the recorded run and changes nothing, so a retried activity is one run.
//
// What changes, for each such citizen: the account (username, name, tax
// code, e-mail, phone, address, ISEE; the password is disabled and the
// sessions and cart are deleted); their cases (tax code, the form's
// answers: every text but the municipality and the delivery choice; the
// information request and the decision's reason), the cases' timeline
// (texts of the events' details, the citizen as actor) and tasks (notes);
// their vouchers' tax code; bookings' notes and sessions' delivery notes;
// appointments' topic and plan; contact tasks' phone, address and
// messages; the recipient of e-mails. Amounts, dates, funds,
// municipalities, statuses and every id stay, so the ledger and its
// check (VerifyLedger) are untouched. The audit trail changes in one way
// only (migration 022): a row written before migration 021 that names the
// citizen by their plain tax code (acting_for, a string of detail) gets
// their reference instead ("citizen:<public id>", as rows written since),
// which reads as the same tax code before and as the pseudonym after;
// rows of citizens pseudonymised by earlier runs are matched by their
// keyed pseudonym (rereferenceEarlier). The run's audit row counts them
// (audit_rows).
func (s *Store) Pseudonymise(ctx context.Context, in RetentionInput) (RetentionRun, error) {
	if in.RunKey == "" || in.Pseudonym == nil || in.RetentionDays < 1 {
		return RetentionRun{}, errors.New("retention: a run key, a pseudonymiser and a period are required")
	}
	if in.Limit <= 0 {
		in.Limit = 500
	}
	var run RetentionRun
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		// One run at a time: a second worker's run waits here, then finds
		// the citizens already done.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sportello.retention'))`); err != nil {
			return err
		}
		run = RetentionRun{}
		err := tx.QueryRow(ctx, `SELECT id, run_key, started_at, finished_at, cutoff, retention_days, people, cases, kept, more
			FROM retention_runs WHERE run_key = $1`, in.RunKey).Scan(&run.ID, &run.RunKey, &run.StartedAt, &run.FinishedAt,
			&run.Cutoff, &run.RetentionDays, &run.People, &run.Cases, &run.Kept, &run.More)
		if err == nil {
			return errRunRecorded
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		run = RetentionRun{RunKey: in.RunKey, Cutoff: in.Cutoff.UTC(), RetentionDays: in.RetentionDays}
		if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&run.StartedAt); err != nil {
			return err
		}
		args := pgx.NamedArgs{"cutoff": in.Cutoff, "limit": in.Limit + 1}
		if err := tx.QueryRow(ctx, `SELECT count(*) `+retentionCandidates+` AND `+retentionOpen, args).Scan(&run.Kept); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT u.id, coalesce(u.tax_code, ''), u.username `+retentionCandidates+
			` AND NOT `+retentionOpen+` ORDER BY u.id LIMIT @limit`, args)
		if err != nil {
			return err
		}
		type person struct {
			id             int64
			tax, username  string
			pseudo, handle string
		}
		var people []person
		for rows.Next() {
			var p person
			if err := rows.Scan(&p.id, &p.tax, &p.username); err != nil {
				rows.Close()
				return err
			}
			people = append(people, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(people) > in.Limit {
			people, run.More = people[:in.Limit], true
		}
		rereferenced := 0
		for _, p := range people {
			// The audit rows naming the citizen by tax code (written before
			// migration 021) get their reference while the account still
			// holds the tax code.
			var n int
			if err := tx.QueryRow(ctx, `SELECT sportello_audit_rereference($1, $2)`, p.id, p.tax).Scan(&n); err != nil {
				return fmt.Errorf("audit references of user %d: %w", p.id, err)
			}
			rereferenced += n
			subject := p.tax
			if subject == "" {
				subject = fmt.Sprintf("user:%d", p.id)
			}
			p.pseudo = in.Pseudonym(subject)
			n, err := pseudonymisePerson(ctx, tx, p.id, p.username, p.pseudo, run.StartedAt)
			if err != nil {
				return fmt.Errorf("pseudonymise user %d: %w", p.id, err)
			}
			run.People++
			run.Cases += n
		}
		// Audit rows written before migration 022 may still name a citizen
		// pseudonymised by an earlier run by their plain tax code: matched
		// by the keyed pseudonym, they get the citizen's reference too.
		auditRows, err := rereferenceEarlier(ctx, tx, in.Pseudonym)
		if err != nil {
			return fmt.Errorf("audit references: %w", err)
		}
		auditRows += rereferenced
		if err := tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&run.FinishedAt); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO retention_runs (run_key, started_at, finished_at, cutoff, retention_days,
			people, cases, kept, more) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			run.RunKey, run.StartedAt, run.FinishedAt, run.Cutoff, run.RetentionDays, run.People, run.Cases, run.Kept,
			run.More).Scan(&run.ID); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"run_id": run.ID, "run_key": run.RunKey, "cutoff": run.Cutoff,
			"retention_days": run.RetentionDays, "people": run.People, "cases": run.Cases, "kept": run.Kept, "more": run.More,
			"audit_rows": auditRows})
		// The run is the system's, across districts: its row is written in
		// each district's trail, where that district's supervisors read it.
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (district_id, actor_username, actor_role, action, detail)
			SELECT d.id, 'system', 'system', 'retention_run', $1 FROM districts d`, detail)
		return err
	})
	if errors.Is(err, errRunRecorded) {
		return run, nil
	}
	return run, err
}

// rereferenceEarlier gives the audit rows that still name an already
// pseudonymised citizen by their plain tax code (left by runs before
// migration 022) the citizen's reference: each tax-code-like value still
// in the trail whose keyed pseudonym is a pseudonymised citizen's tax code
// is theirs. It returns the rows changed.
func rereferenceEarlier(ctx context.Context, tx pgx.Tx, pseudonym func(string) string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT v FROM sportello_audit_plain_subjects() AS v`)
	if err != nil {
		return 0, err
	}
	values, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(values) == 0 {
		return 0, err
	}
	pseudos := make([]string, len(values))
	for i, v := range values {
		pseudos[i] = pseudonym(v)
	}
	rows, err = tx.Query(ctx, `SELECT u.id, x.v FROM unnest($1::text[], $2::text[]) AS x(v, p)
		JOIN users u ON u.role = 'citizen' AND u.pseudonymised_at IS NOT NULL AND u.tax_code = x.p`, values, pseudos)
	if err != nil {
		return 0, err
	}
	type match struct {
		id  int64
		tax string
	}
	matches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (match, error) {
		var m match
		return m, r.Scan(&m.id, &m.tax)
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, m := range matches {
		var n int
		if err := tx.QueryRow(ctx, `SELECT sportello_audit_rereference($1, $2)`, m.id, m.tax).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// errRunRecorded ends Pseudonymise's transaction when its run key is
// already recorded (nothing to write).
var errRunRecorded = errors.New("retention: run already recorded")

// pseudonymisePerson replaces the personal fields of citizen id (formerly
// username) by pseudo in every table Pseudonymise lists; it returns the
// number of their cases.
func pseudonymisePerson(ctx context.Context, tx pgx.Tx, id int64, username, pseudo string, at time.Time) (int, error) {
	// Texts inside JSON: every string but those under the keys kept.
	const scrub = `sportello_scrub_json(%s, @pseudo)`
	// In this order: the e-mails' recipient is matched on the account's
	// e-mail before the account loses it.
	stmts := []string{
		`UPDATE notifications n SET recipient = @pseudo, last_error = NULL
			WHERE n.case_id IN (SELECT id FROM cases WHERE applicant_id = @id)
			   OR n.recipient = (SELECT email FROM users WHERE id = @id)`,
		`UPDATE case_events e SET actor = CASE WHEN e.actor = @username THEN @pseudo ELSE e.actor END,
			detail = ` + fmt.Sprintf(scrub, "e.detail") + `
			FROM cases c WHERE c.id = e.case_id AND c.applicant_id = @id`,
		`UPDATE tasks t SET note = CASE WHEN t.note IS NULL THEN NULL ELSE '' END
			FROM cases c WHERE c.id = t.case_id AND c.applicant_id = @id`,
		`UPDATE vouchers SET tax_code = @pseudo WHERE holder_id = @id`,
		`UPDATE bookings SET notes = '' WHERE citizen_id = @id`,
		`UPDATE booking_sessions s SET delivery_note = '' FROM bookings b WHERE b.id = s.booking_id AND b.citizen_id = @id`,
		`UPDATE appointments SET topic = '', plan = NULL,
			cancel_reason = CASE WHEN cancel_reason IS NULL THEN NULL ELSE '' END WHERE citizen_id = @id`,
		`UPDATE contact_tasks SET phone = '', address = '', message_it = '', last_note = '' WHERE citizen_id = @id`,
		`DELETE FROM auth_sessions WHERE user_id = @id`,
		`DELETE FROM cart_items WHERE user_id = @id`,
		`UPDATE users SET username = lower(@pseudo), display_name = @pseudo, tax_code = @pseudo, email = NULL, phone = NULL,
			postal_address = NULL, isee_euro = NULL, isee_updated_at = NULL, password_hash = '!',
			pseudonymised_at = @at WHERE id = @id`,
	}
	args := pgx.NamedArgs{"id": id, "pseudo": pseudo, "at": at, "username": username}
	for i, q := range stmts {
		if _, err := tx.Exec(ctx, q, args); err != nil {
			return 0, fmt.Errorf("statement %d: %w", i, err)
		}
	}
	tag, err := tx.Exec(ctx, `UPDATE cases SET tax_code = @pseudo, data = `+fmt.Sprintf(scrub, "data")+`,
		info_request = CASE WHEN info_request IS NULL THEN NULL ELSE '' END,
		decision_reason = CASE WHEN decision_reason IS NULL THEN NULL ELSE '' END,
		request_hash = '', pseudonymised_at = @at WHERE applicant_id = @id`, args)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// RetentionRuns lists the recorded runs, newest first (at most limit).
func (s *Store) RetentionRuns(ctx context.Context, limit int) ([]RetentionRun, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []RetentionRun
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, run_key, started_at, finished_at, cutoff, retention_days, people, cases, kept, more
			FROM retention_runs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RetentionRun, error) {
			var run RetentionRun
			err := r.Scan(&run.ID, &run.RunKey, &run.StartedAt, &run.FinishedAt, &run.Cutoff, &run.RetentionDays,
				&run.People, &run.Cases, &run.Kept, &run.More)
			return run, err
		})
		return err
	})
	return out, err
}
