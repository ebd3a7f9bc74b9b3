package store

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The database side of the operations console (issue 13, part 2): journeys
// that wait on a human for longer than they should. Row-level security
// keeps every read to the caller's district.

// Kinds of the console's database items.
const (
	OpsBookingUnpaid = "booking_awaiting_payment" // a booking waiting for its online payment
	OpsRefundFailed  = "refund_failed"            // an open refund_failed incident
	OpsBillingHeld   = "billing_held"             // an invoice waiting for the merchant's declaration
)

// OpsRow is one item of the console read from the database.
type OpsRow struct {
	Kind         string
	ID           string // the booking's, the incident's or the invoice's id
	District     string
	Municipality string // its name
	WorkflowID   string
	Number       int64 // the booking's or the invoice's number
	AmountCents  int64
	Since        time.Time
	Details      string
}

// OpsCutoffs says from when each kind of wait counts as stuck.
type OpsCutoffs struct {
	PaymentBefore     time.Time // bookings awaiting payment created before this
	DeclarationBefore time.Time // invoices awaiting declaration created before this
}

// OpsRows lists, in scope, the database items of the console: bookings
// waiting for payment since before the cutoff, open refund_failed
// incidents, invoices held for a declaration since before the cutoff;
// oldest first, at most limit of each kind.
func (a API) OpsRows(ctx context.Context, scope Scope, cut OpsCutoffs, limit int) ([]OpsRow, error) {
	out := []OpsRow{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			(SELECT 'booking_awaiting_payment', b.id::text, b.district_id, m.name, b.workflow_id, b.number, b.online_cents,
				b.created_at, coalesce(b.payment_status, '')
			FROM bookings b JOIN municipalities m ON m.id = b.municipality_id
			WHERE b.status = 'awaiting_payment' AND b.created_at < $1 ORDER BY b.created_at LIMIT $3)
			UNION ALL
			(SELECT 'refund_failed', i.id::text, i.district_id, m.name, coalesce(b.workflow_id, ''), coalesce(b.number, 0),
				i.amount_cents, i.created_at, i.details
			FROM incidents i JOIN municipalities m ON m.id = i.municipality_id LEFT JOIN bookings b ON b.id = i.booking_id
			WHERE i.kind = 'refund_failed' AND i.status = 'open' ORDER BY i.created_at LIMIT $3)
			UNION ALL
			(SELECT 'billing_held', v.id::text, v.district_id, m.name, v.workflow_id, v.number, v.total_cents,
				v.created_at, coalesce(v.merchant_id, '')
			FROM invoices v JOIN municipalities m ON m.id = v.municipality_id
			WHERE v.status = 'awaiting_declaration' AND v.created_at < $2 ORDER BY v.created_at LIMIT $3)`,
			cut.PaymentBefore, cut.DeclarationBefore, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r OpsRow
			if err := rows.Scan(&r.Kind, &r.ID, &r.District, &r.Municipality, &r.WorkflowID, &r.Number, &r.AmountCents,
				&r.Since, &r.Details); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// OpsOwners tells, for workflow ids of cases, bookings, appointments,
// absences, billing runs and refund resolutions, the district and municipality name of each one the scope
// may read (row-level security); ids of other workflows, and ids the scope
// may not read, are not in the answer.
func (a API) OpsOwners(ctx context.Context, scope Scope, workflowIDs []string) (map[string][2]string, error) {
	out := map[string][2]string{}
	if len(workflowIDs) == 0 {
		return out, nil
	}
	var cases, billing, billingMun []string
	uuids := map[string][]string{} // by prefix: appointment, absence, refund-resolution
	for _, id := range workflowIDs {
		switch {
		case strings.HasPrefix(id, "case:"):
			cases = append(cases, strings.TrimPrefix(id, "case:"))
		case strings.HasPrefix(id, "billing-run:"):
			if i := strings.LastIndex(id, ":"); i > 0 {
				billing, billingMun = append(billing, id), append(billingMun, id[i+1:])
			}
		default:
			for _, p := range []string{"appointment:", "absence:", "refund-resolution:"} {
				if rest, ok := strings.CutPrefix(id, p); ok && uuid.Validate(rest) == nil {
					uuids[p] = append(uuids[p], rest)
				}
			}
		}
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT b.workflow_id, b.district_id, m.name FROM bookings b JOIN municipalities m ON m.id = b.municipality_id
				WHERE b.workflow_id = ANY($1)
			UNION ALL
			SELECT 'case:' || c.id, c.district_id, m.name FROM cases c JOIN municipalities m ON m.id = c.municipality_id
				WHERE c.id = ANY($2)
			UNION ALL
			SELECT w.id, m.district_id, m.name FROM unnest($3::text[], $4::text[]) AS w(id, mun)
				JOIN municipalities m ON m.id = w.mun
				WHERE (SELECT sportello_scope()) = 'system' OR m.district_id = (SELECT sportello_district())
			UNION ALL
			SELECT 'appointment:' || x.id, x.district_id, m.name FROM appointments x JOIN municipalities m ON m.id = x.municipality_id
				WHERE x.id = ANY($5::uuid[])
			UNION ALL
			SELECT 'absence:' || x.id, x.district_id, coalesce(m.name, '') FROM absences x LEFT JOIN municipalities m ON m.id = x.municipality_id
				WHERE x.id = ANY($6::uuid[])
			UNION ALL
			SELECT 'refund-resolution:' || x.id, x.district_id, m.name FROM incidents x JOIN municipalities m ON m.id = x.municipality_id
				WHERE x.id = ANY($7::uuid[])`,
			workflowIDs, cases, billing, billingMun, uuids["appointment:"], uuids["absence:"], uuids["refund-resolution:"])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, d, m string
			if err := rows.Scan(&id, &d, &m); err != nil {
				return err
			}
			out[id] = [2]string{d, m}
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// RefundCase is what resolving a failed refund by hand needs: the open
// incident, its booking's payment and the cancelled sessions with an
// online share.
type RefundCase struct {
	Incident  Incident
	Key       string
	PaymentID string
	Seqs      []int
}

// RefundCaseOf reads incident id (system scope: the worker's activity and
// the use case, which has checked the caller's scope already).
func (s *Store) RefundCaseOf(ctx context.Context, id string) (RefundCase, error) {
	var rc RefundCase
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		rc.Incident, err = scanIncident(tx.QueryRow(ctx, `SELECT `+incidentColumns+incidentFrom+` WHERE i.id = $1::uuid`, id))
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT i.key, coalesce(b.payment_id, '') FROM incidents i
			LEFT JOIN bookings b ON b.id = i.booking_id WHERE i.id = $1::uuid`, id).Scan(&rc.Key, &rc.PaymentID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT seq FROM booking_sessions WHERE booking_id = $1::uuid
			AND status = 'cancelled' AND online_cents > 0 ORDER BY seq`, nullUUID(rc.Incident.BookingID))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int
			if err := rows.Scan(&seq); err != nil {
				return err
			}
			rc.Seqs = append(rc.Seqs, seq)
		}
		return rows.Err()
	})
	return rc, MapError(err)
}

func nullUUID(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// IncidentIn reads incident id in scope (row-level security: a supervisor's
// district).
func (a API) IncidentIn(ctx context.Context, scope Scope, id string) (Incident, error) {
	var x Incident
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		x, err = scanIncident(tx.QueryRow(ctx, `SELECT `+incidentColumns+incidentFrom+` WHERE i.id = $1::uuid`, id))
		return err
	})
	return x, MapError(err)
}

// ResolveIncidentByID closes open incident id (a refund resolved by hand);
// false when it was not open.
func (s *Store) ResolveIncidentByID(ctx context.Context, id string) (bool, error) {
	var n int64
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE incidents SET status = 'resolved', resolved_at = now(), updated_at = now()
			WHERE id = $1::uuid AND status = 'open'`, id)
		n = tag.RowsAffected()
		return err
	})
	return n > 0, MapError(err)
}

// OpsRecipients are the supervisors of district, or of every district when
// district is "" (an item of the whole installation).
func (s *Store) OpsRecipients(ctx context.Context, district string) ([]Recipient, error) {
	var out []Recipient
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, display_name, coalesce(email, '') FROM users
			WHERE role = 'supervisor' AND ($1 = '' OR district_id = $1) ORDER BY id`, district)
		if err != nil {
			return err
		}
		out, err = scanRecipients(rows)
		return err
	})
	return out, MapError(err)
}
