package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// RemindTask records the reminder sent when 75% of a task's time has passed.
func (s *Store) RemindTask(ctx context.Context, in TaskActionInput, dueAt time.Time) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tasks SET reminded_at = coalesce(reminded_at, $2) WHERE id = $1`, in.TaskID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:task:%s:reminder", in.CaseID, in.TaskID), CaseID: in.CaseID,
			At: in.At, Type: "task_reminder", Actor: "system",
			Detail: map[string]any{"task_id": in.TaskID, "due_at": dueAt, "reason": "75% of the time for the review has passed"}})
	}))
}

// FirstApprovalInput is an approval that needs a second approver.
type FirstApprovalInput struct {
	DecisionInput
	AmountCents int64
}

// FirstApproval closes the review task with the first approver's decision;
// the award waits for the second approval.
func (s *Store) FirstApproval(ctx context.Context, in FirstApprovalInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if err := decideTask(ctx, tx, in.TaskID, "first_approval", in.At); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET updated_at = $2 WHERE id = $1`, in.CaseID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":task:" + in.TaskID + ":decision", CaseID: in.CaseID, At: in.At,
			Type: "first_approval", Actor: in.Actor,
			Detail: map[string]any{"task_id": in.TaskID, "amount_cents": in.AmountCents, "reason": in.Reason,
				"next": "a second approval by a supervisor is required"}})
	}))
}

// WithdrawInput closes a case whose applicant did not answer in time.
type WithdrawInput struct {
	CaseID   string
	Deadline time.Time
	At       time.Time
}

// Withdraw marks the case withdrawn.
func (s *Store) Withdraw(ctx context.Context, in WithdrawInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'withdrawn', updated_at = $2 WHERE id = $1`, in.CaseID, in.At); err != nil {
			return err
		}
		return AddEvent(ctx, tx, Event{Key: in.CaseID + ":withdrawn", CaseID: in.CaseID, At: in.At, Type: "withdrawn",
			Actor: "system", Detail: map[string]any{"deadline": in.Deadline,
				"reason": "no reply to the request for information by the deadline"}})
	}))
}

// Recipient is someone a notification goes to.
type Recipient struct {
	UserID int64
	Name   string
	Email  string // "" when the person has no e-mail address
	Lang   string
}

// Audiences of notifications, defined in internal/contract.
const (
	AudienceApplicant   = contract.AudienceApplicant
	AudienceAssignee    = contract.AudienceAssignee
	AudienceSupervisors = contract.AudienceSupervisors
)

// Recipients resolves an audience for a case (and task, for the assignee).
func (s *Store) Recipients(ctx context.Context, caseID, taskID, audience string) ([]Recipient, error) {
	var (
		sql  string
		args []any
	)
	switch audience {
	case AudienceApplicant:
		// The account's address, else the one given in the application.
		sql, args = `SELECT u.id, u.display_name,
				coalesce(nullif(u.email, ''), nullif(c.data->'applicant'->>'email', ''), '')
			FROM cases c JOIN users u ON u.id = c.applicant_id WHERE c.id = $1`, []any{caseID}
	case AudienceAssignee:
		sql, args = `SELECT u.id, u.display_name, coalesce(u.email, '') FROM tasks t JOIN users u ON u.id = t.claimed_by
			WHERE t.id::text = $1
			UNION ALL
			SELECT u.id, u.display_name, coalesce(u.email, '') FROM cases c JOIN users u
			  ON u.role = 'operator' AND u.municipality_id = c.municipality_id
			WHERE c.id = $2 AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id::text = $1 AND t.claimed_by IS NOT NULL)
			ORDER BY 1`, []any{taskID, caseID}
	case AudienceSupervisors:
		sql, args = `SELECT u.id, u.display_name, coalesce(u.email, '') FROM cases c JOIN users u
			ON u.role = 'supervisor' AND u.district_id = c.district_id WHERE c.id = $1 ORDER BY u.id`, []any{caseID}
	default:
		return nil, fmt.Errorf("unknown audience %q", audience)
	}
	// One round trip (Pipeline: the scope and the read together).
	var out []Recipient
	b := &pgx.Batch{}
	b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		var err error
		out, err = scanRecipients(rows)
		return err
	})
	err := s.Pipeline(ctx, System, b)
	return out, MapError(err)
}

// Outbox states.
const (
	NotificationPending = "pending"
	NotificationSent    = "sent"
	NotificationFailed  = "failed"
)

// OutboxEntry is one notification to one recipient.
type OutboxEntry struct {
	Key       string
	CaseID    string
	Kind      string
	Channel   string // email or social_point
	Recipient string
	Lang      string
	Subject   string
}

// BeginNotification records a notification once and returns its status:
// "sent" means an earlier attempt already delivered it.
func (s *Store) BeginNotification(ctx context.Context, e OutboxEntry) (string, error) {
	var status string
	var caseID any
	if e.CaseID != "" {
		caseID = e.CaseID
	}
	// One round trip (Pipeline: both statements or neither).
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO notifications (key, case_id, kind, channel, recipient, lang, subject, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (key) DO NOTHING`,
		e.Key, caseID, e.Kind, e.Channel, e.Recipient, e.Lang, e.Subject)
	b.Queue(`UPDATE notifications SET attempts = attempts + 1 WHERE key = $1 RETURNING status`, e.Key).
		QueryRow(func(row pgx.Row) error { return row.Scan(&status) })
	err := s.pipeline(ctx, System, b, true)
	return status, MapError(err)
}

// FinishNotification records the outcome of a delivery attempt.
func (s *Store) FinishNotification(ctx context.Context, key, status string, cause error) error {
	var msg any
	if cause != nil {
		msg = cause.Error()
	}
	// One round trip (Pipeline).
	b := &pgx.Batch{}
	b.Queue(`UPDATE notifications SET status = $2, last_error = $3,
			sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END WHERE key = $1`, key, status, msg)
	return MapError(s.Pipeline(ctx, System, b))
}

// ErrNoRecipient is returned when an audience resolves to nobody.
var ErrNoRecipient = errors.New("no recipient")

// NotificationFacts are what message templates say about a case: its
// number, the benefit, when it was filed, the municipality, the applicant
// and, once there is a voucher, its spendable balance and expiry.
func (s *Store) NotificationFacts(ctx context.Context, caseID string) (map[string]any, error) {
	facts := map[string]any{"case_number": caseID}
	// One round trip (Pipeline): the case's facts, and its voucher with the
	// voucher account's balance (0 without an account), if it has one.
	b := &pgx.Batch{}
	b.Queue(`SELECT f.name, m.name, c.created_at,
			trim(coalesce(c.data->'applicant'->>'first_name', '') || ' ' || coalesce(c.data->'applicant'->>'last_name', '')), f.kind
		FROM cases c JOIN funds f ON f.id = c.fund_id JOIN municipalities m ON m.id = c.municipality_id
		WHERE c.id = $1`, caseID).QueryRow(func(row pgx.Row) error {
		var benefit, municipality, applicant, kind string
		var submitted time.Time
		if err := row.Scan(&benefit, &municipality, &submitted, &applicant, &kind); err != nil {
			return err
		}
		facts["benefit"], facts["municipality"], facts["submitted_at"], facts["applicant"] = benefit, municipality, submitted, applicant
		facts["fund_kind"] = kind
		return nil
	})
	b.Queue(`SELECT v.id::text, v.expires_at,
			coalesce((SELECT a.balance_cents FROM accounts a WHERE a.id = $2 || v.id::text), 0)
		FROM vouchers v WHERE v.case_id = $1`, caseID, VoucherAccountID("")).QueryRow(func(row pgx.Row) error {
		var voucherID string
		var expires time.Time
		var available int64
		err := row.Scan(&voucherID, &expires, &available)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		facts["available_cents"], facts["expires_at"], facts["voucher_id"] = available, expires, voucherID
		return nil
	})
	if err := s.Pipeline(ctx, System, b); err != nil {
		return facts, MapError(err)
	}
	due, err := s.CaseDecisionExpected(ctx, caseID)
	if err != nil {
		return facts, err
	}
	facts["decision_by"] = due
	return facts, nil
}

// AssignInput is an assignment decided by the workflow.
type AssignInput struct {
	TaskID     string
	CaseID     string
	ActorID    int64
	Actor      string
	AssigneeID int64
	Assignee   string
	Previous   string
	Reason     string
	Seq        int
	At         time.Time
}

// AssignTask gives the task to the assignee, recorded with who and why.
func (s *Store) AssignTask(ctx context.Context, in AssignInput) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'claimed', claimed_by = $2, claimed_at = $3
			WHERE id = $1 AND status IN ('open','claimed')`, in.TaskID, in.AssigneeID, in.At); err != nil {
			return err
		}
		detail := map[string]any{"task_id": in.TaskID, "assignee": in.Assignee, "reason": in.Reason}
		if in.Previous != "" {
			detail["previous"] = in.Previous
		}
		return AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:task:%s:assign:%d", in.CaseID, in.TaskID, in.Seq), CaseID: in.CaseID,
			At: in.At, Type: "task_assigned", Actor: in.Actor, Detail: detail})
	}))
}

// scanRecipients reads rows of (id, display name, e-mail) as recipients,
// in Italian, and closes them.
func scanRecipients(rows pgx.Rows) ([]Recipient, error) {
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		r := Recipient{Lang: "it"}
		if err := rows.Scan(&r.UserID, &r.Name, &r.Email); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
