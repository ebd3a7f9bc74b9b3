package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/contract"
)

// Contact tasks (issue 4): what the Social Point of a citizen's
// municipality must tell a citizen who has no e-mail address. They are
// tasks of kind 'contact' with a contact_tasks row, opened once per
// notification key by the Notify activity and closed by an operator who
// records the outcome. They are not workflow steps: the store handles them,
// and the review inbox and the workflow's updates never see them.

// TaskKindContact is the kind of contact tasks.
const TaskKindContact = "contact"

// Contact channels and outcomes.
const (
	ContactByPhone        = "phone"
	ContactByLetter       = "letter"
	ContactPhoned         = "phoned"
	ContactLetterSent     = "letter_sent"
	ContactDeliveredHome  = "delivered_home"
	ContactUnreachable    = "unreachable"
	contactDueWorkingDays = 2
)

// ContactOutcomes lists the outcomes an operator may record.
var ContactOutcomes = []string{ContactPhoned, ContactLetterSent, ContactDeliveredHome, ContactUnreachable}

// contactNamespace derives a contact task's id from its notification key.
var contactNamespace = uuid.MustParse("6f1d8a52-4c1e-4d55-9a61-7c0f0e5b2d10")

// ContactTaskInput asks the Social Point to reach a citizen.
type ContactTaskInput struct {
	Key       string // the notification's key (one task per key)
	CaseID    string
	Kind      string // the notification kind
	CitizenID int64
	MessageIT string // what to tell, in Italian
	At        time.Time
	// OneOpen keeps one open contact task per case (issue 16): the new task
	// supersedes the case's open ones, which are closed (cancelled,
	// outcome "superseded"), their messages carried into it under
	// EarlierIT and their home delivery kept.
	OneOpen   bool
	EarlierIT string // the heading of the carried messages, in Italian
}

// ContactSuperseded is the outcome of a contact task replaced by a newer
// one of its case.
const ContactSuperseded = "superseded"

// OpenContactTask opens the contact task of a notification once, with the
// suggested channel (phone when a phone number is known, else a letter) and,
// for a voucher ready for a citizen who asked for it, the home delivery of
// the printed voucher; the case timeline says the Social Point will call or
// write. It reports whether this call created the task.
func (s *Store) OpenContactTask(ctx context.Context, in ContactTaskInput, homeDeliveryKinds ...string) (bool, error) {
	var created bool
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		created = false
		var phone, address string
		var wantsHome bool
		err := tx.QueryRow(ctx, `SELECT
				coalesce(nullif(u.phone, ''), nullif(c.data #>> '{applicant,phone}', ''), ''),
				coalesce(nullif(u.postal_address, ''),
					nullif(concat_ws(', ', c.data #>> '{residence,address}', m.name), ''), ''),
				u.home_delivery OR coalesce(c.data ->> 'delivery', '') = 'home'
			FROM cases c JOIN users u ON u.id = $2 JOIN municipalities m ON m.id = c.municipality_id
			WHERE c.id = $1`, in.CaseID, in.CitizenID).Scan(&phone, &address, &wantsHome)
		if err != nil {
			return err
		}
		home := wantsHome && slices.Contains(homeDeliveryKinds, in.Kind)
		channel := ContactByLetter
		if phone != "" {
			channel = ContactByPhone
		}
		taskID := uuid.NewSHA1(contactNamespace, []byte(in.Key))
		message := in.MessageIT
		var superseded []string
		if in.OneOpen {
			var earlier []string
			if superseded, earlier, err = supersedeContacts(ctx, tx, in.CaseID, taskID, in.At, &home); err != nil {
				return err
			}
			if len(earlier) > 0 {
				message += "\n\n" + in.EarlierIT + "\n\n" + strings.Join(earlier, "\n\n")
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO tasks (id, case_id, district_id, municipality_id, kind, candidate_role, status, due_at, created_at)
			SELECT $1, c.id, c.district_id, c.municipality_id, 'contact', 'operator', 'open', $3, $4 FROM cases c WHERE c.id = $2
			ON CONFLICT (id) DO NOTHING`, taskID, in.CaseID, calendar.AddWorkingDays(in.At, contactDueWorkingDays), in.At)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, `INSERT INTO contact_tasks (task_id, notification_key, notification_kind, citizen_id,
					channel, phone, address, home_delivery, message_it)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				taskID, in.Key, in.Kind, in.CitizenID, channel, phone, address, home, message); err != nil {
				return err
			}
			created = true
		}
		reason := "the citizen has no e-mail address: the Social Point phones"
		if channel == ContactByLetter {
			reason = "the citizen has no e-mail address: the Social Point sends a letter"
		}
		if home {
			reason += " and delivers the printed voucher at home"
		}
		detail := map[string]any{"notification": in.Kind, "task_id": taskID.String(), "channel": channel,
			"home_delivery": home, "reason": reason}
		if len(superseded) > 0 {
			detail["superseded"] = superseded
		}
		return AddEvent(ctx, tx, Event{Key: in.Key + ":contact", CaseID: in.CaseID, At: in.At, Type: "contact_needed",
			Actor: "system", Detail: detail})
	})
	return created, MapError(err)
}

// supersedeContacts closes the open contact tasks of caseID but keep (a
// retried notification finds its own task open and leaves it), returning
// their ids and messages, oldest first; a home delivery one of them asked
// for is kept in *home. A task created by a retry of this notification is
// left alone.
func supersedeContacts(ctx context.Context, tx pgx.Tx, caseID string, keep uuid.UUID, at time.Time, home *bool) ([]string, []string, error) {
	rows, err := tx.Query(ctx, `SELECT t.id::text, ct.message_it, ct.home_delivery FROM tasks t JOIN contact_tasks ct ON ct.task_id = t.id
		WHERE t.case_id = $1 AND t.kind = 'contact' AND t.status IN ('open', 'claimed') AND t.id <> $2
		ORDER BY t.created_at, t.id FOR UPDATE OF t`, caseID, keep)
	if err != nil {
		return nil, nil, err
	}
	var ids, messages []string
	for rows.Next() {
		var id, msg string
		var h bool
		if err := rows.Scan(&id, &msg, &h); err != nil {
			rows.Close()
			return nil, nil, err
		}
		ids, messages = append(ids, id), append(messages, msg)
		*home = *home || h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'cancelled', outcome = $2, completed_at = $3 WHERE id = ANY($1::uuid[])`,
			ids, ContactSuperseded, at); err != nil {
			return nil, nil, err
		}
	}
	return ids, messages, nil
}

// ContactTaskView is one contact task as the Social Point sees it.
type ContactTaskView struct {
	ID               string     `json:"id"`
	CaseID           string     `json:"case_id"`
	Municipality     string     `json:"municipality"`
	Status           string     `json:"status"`
	NotificationKind string     `json:"notification_kind"`
	Channel          string     `json:"channel"`
	Phone            string     `json:"phone,omitempty"`
	Address          string     `json:"address,omitempty"`
	HomeDelivery     bool       `json:"home_delivery"`
	MessageIT        string     `json:"message_it"`
	CitizenID        int64      `json:"-"`
	CitizenPublicID  string     `json:"citizen_id"` // the citizen's public id
	CitizenName      string     `json:"citizen_name"`
	CitizenTaxCode   string     `json:"citizen_tax_code"`
	DueAt            time.Time  `json:"due_at"`
	Overdue          bool       `json:"overdue"`
	Attempts         int        `json:"attempts"`
	LastOutcome      string     `json:"last_outcome,omitempty"`
	LastNote         string     `json:"last_note,omitempty"`
	Outcome          *string    `json:"outcome,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	CompletedAt      *time.Time `json:"completed_at,omitempty"`
}

const contactSelect = `SELECT t.id::text, t.case_id, t.municipality_id, t.status, ct.notification_kind, ct.channel, ct.phone,
		ct.address, ct.home_delivery, ct.message_it, ct.citizen_id, u.public_id::text, u.display_name, coalesce(u.tax_code, ''), t.due_at,
		t.status IN ('open', 'claimed') AND t.due_at < now(), ct.attempts, coalesce(ct.last_outcome, ''), ct.last_note,
		t.outcome, t.created_at, t.completed_at
	FROM tasks t
	JOIN contact_tasks ct ON ct.task_id = t.id
	JOIN users u ON u.id = ct.citizen_id`

func scanContact(row pgx.Row) (ContactTaskView, error) {
	var v ContactTaskView
	err := row.Scan(&v.ID, &v.CaseID, &v.Municipality, &v.Status, &v.NotificationKind, &v.Channel, &v.Phone,
		&v.Address, &v.HomeDelivery, &v.MessageIT, &v.CitizenID, &v.CitizenPublicID, &v.CitizenName, &v.CitizenTaxCode, &v.DueAt,
		&v.Overdue, &v.Attempts, &v.LastOutcome, &v.LastNote, &v.Outcome, &v.CreatedAt, &v.CompletedAt)
	return v, err
}

// ContactFilter narrows the contact tasks: Status active (default), done or
// all; Overdue keeps the active ones past their due date.
type ContactFilter struct {
	Status  string
	Overdue bool
	Limit   int
	Offset  int
}

// ContactTasks lists the contact tasks visible to scope: overdue first,
// then by due date (done ones: newest first).
func (a API) ContactTasks(ctx context.Context, scope Scope, f ContactFilter) ([]ContactTaskView, int, error) {
	list := []ContactTaskView{}
	total := 0
	where := ` WHERE t.kind = 'contact'` + tenantContactSQL(scope)
	order := `t.due_at, t.id`
	switch f.Status {
	case "", "active":
		where += ` AND t.status IN ('open', 'claimed')`
	case "done":
		where += ` AND t.status IN ('done', 'cancelled')`
		order = `t.completed_at DESC, t.id`
	}
	if f.Overdue {
		where += ` AND t.status IN ('open', 'claimed') AND t.due_at < now()`
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args := pgx.NamedArgs{"scope_district": scope.District, "scope_municipality": scope.Municipality,
		"scope_user": scope.UserID, "limit": f.Limit, "offset": f.Offset}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tasks t`+where, args).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, contactSelect+where+` ORDER BY `+order+` LIMIT @limit OFFSET @offset`, args)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanContact(rows)
			if err != nil {
				return err
			}
			list = append(list, v)
		}
		return rows.Err()
	})
	return list, total, MapError(err)
}

// tenantContactSQL is tenantTaskSQL for contact tasks: an operator also sees
// those of the citizens they registered at the desk, whatever their
// municipality in the district (users.registered_by; the tasks_tenant policy
// of migration 025 admits the same rows).
func tenantContactSQL(scope Scope) string {
	if scope.Kind == string(contract.RoleOperator) {
		return ` AND t.district_id = @scope_district AND (t.municipality_id = @scope_municipality
			OR EXISTS (SELECT 1 FROM contact_tasks cr JOIN users ur ON ur.id = cr.citizen_id
				WHERE cr.task_id = t.id AND ur.registered_by = @scope_user))`
	}
	return tenantTaskSQL(scope)
}

// ContactTask returns one contact task visible to scope (ErrNotFound
// otherwise, also for a task of another kind).
func (a API) ContactTask(ctx context.Context, scope Scope, id string) (ContactTaskView, error) {
	var v ContactTaskView
	uid, err := uuid.Parse(id)
	if err != nil {
		return v, ErrNotFound
	}
	err = a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		v, err = scanContact(tx.QueryRow(ctx, contactSelect+` WHERE t.id = $1`, uid))
		return err
	})
	return v, MapError(err)
}

// ContactOutcomeInput is the outcome of a contact attempt.
type ContactOutcomeInput struct {
	TaskID  string
	Outcome string // one of ContactOutcomes
	Note    string
	Actor   string // username, for the timeline
	At      time.Time
}

// Errors of RecordContact.
var (
	ErrContactOutcome       = errors.New("unknown contact outcome")
	ErrContactNoHomeDeliver = errors.New("this contact task has no home delivery")
)

// RecordContact records what the Social Point did: phoned, letter sent or
// voucher delivered at home close the task; unreachable keeps it open for
// another attempt the next working day. The case timeline says so. A task
// already closed is a conflict "task_not_open".
func (a API) RecordContact(ctx context.Context, scope Scope, in ContactOutcomeInput) (ContactTaskView, error) {
	var v ContactTaskView
	if !slices.Contains(ContactOutcomes, in.Outcome) {
		return v, ErrContactOutcome
	}
	uid, err := uuid.Parse(in.TaskID)
	if err != nil {
		return v, ErrNotFound
	}
	err = a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		cur, err := scanContact(tx.QueryRow(ctx, contactSelect+` WHERE t.id = $1 FOR UPDATE OF t, ct`, uid))
		if err != nil {
			return err
		}
		if cur.Status != "open" && cur.Status != "claimed" {
			return Conflict("task_not_open", "this contact has already been recorded")
		}
		if in.Outcome == ContactDeliveredHome && !cur.HomeDelivery {
			return ErrContactNoHomeDeliver
		}
		attempt := cur.Attempts + 1
		if _, err := tx.Exec(ctx, `UPDATE contact_tasks SET attempts = $2, last_outcome = $3, last_note = $4 WHERE task_id = $1`,
			uid, attempt, in.Outcome, strings.TrimSpace(in.Note)); err != nil {
			return err
		}
		// contact_phoned, contact_letter_sent, contact_delivered_home, contact_unreachable
		typ := "contact_" + in.Outcome
		detail := map[string]any{"task_id": cur.ID, "notification": cur.NotificationKind, "outcome": in.Outcome,
			"attempt": attempt}
		if note := strings.TrimSpace(in.Note); note != "" {
			detail["reason"] = note
		}
		if in.Outcome == ContactUnreachable {
			next := calendar.AddWorkingDays(in.At, 1)
			detail["retry_by"] = next
			if _, err := tx.Exec(ctx, `UPDATE tasks SET due_at = $2 WHERE id = $1`, uid, next); err != nil {
				return err
			}
		} else if err := closeTask(ctx, tx, cur.ID, in.Outcome, in.At); err != nil {
			return err
		}
		if err := AddEvent(ctx, tx, Event{Key: fmt.Sprintf("%s:contact:%s:%d", cur.CaseID, cur.ID, attempt), CaseID: cur.CaseID,
			At: in.At, Type: typ, Actor: in.Actor, Detail: detail}); err != nil {
			return err
		}
		v, err = scanContact(tx.QueryRow(ctx, contactSelect+` WHERE t.id = $1`, uid))
		return err
	})
	if errors.Is(err, ErrContactNoHomeDeliver) {
		return v, err
	}
	return v, MapError(err)
}
