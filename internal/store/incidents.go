package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Incident kinds and statuses (migration 013).
const (
	IncidentRefundFailed    = "refund_failed"    // a refund the provider refused for good, or still failing
	IncidentPaymentMismatch = "payment_mismatch" // a captured payment that is not the booking's online part
	IncidentOpen            = "open"
	IncidentResolved        = "resolved"
)

// Incident is money the platform could not move as it should have, shown to
// the district's supervisors.
type Incident struct {
	ID               string     `json:"id"`
	DistrictID       string     `json:"district_id"`
	MunicipalityID   string     `json:"municipality_id"`
	MunicipalityName string     `json:"municipality_name"`
	Kind             string     `json:"kind"`
	BookingID        string     `json:"booking_id,omitempty"`
	BookingNumber    int64      `json:"booking_number,omitempty"`
	AmountCents      int64      `json:"amount_cents"`
	Details          string     `json:"details"`
	Status           string     `json:"status"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	ResolvedAt       *time.Time `json:"resolved_at,omitempty"`
}

// IncidentInput reports an incident about a booking. Key makes it once:
// the refund's idempotency key, or the payment's.
type IncidentInput struct {
	Key         string
	BookingID   string
	Kind        string
	AmountCents int64
	Details     string
}

const incidentColumns = `i.id, i.district_id, i.municipality_id, m.name, i.kind, coalesce(i.booking_id::text, ''),
	coalesce(b.number, 0), i.amount_cents, i.details, i.status, i.created_at, i.updated_at, i.resolved_at`

const incidentFrom = ` FROM incidents i JOIN municipalities m ON m.id = i.municipality_id
	LEFT JOIN bookings b ON b.id = i.booking_id`

func scanIncident(row pgx.Row) (Incident, error) {
	var x Incident
	err := row.Scan(&x.ID, &x.DistrictID, &x.MunicipalityID, &x.MunicipalityName, &x.Kind, &x.BookingID,
		&x.BookingNumber, &x.AmountCents, &x.Details, &x.Status, &x.CreatedAt, &x.UpdatedAt, &x.ResolvedAt)
	return x, err
}

// RecordIncident records the incident once per key, in the booking's
// district and municipality, and returns it (the first report's, on a
// repeat).
func (s *Store) RecordIncident(ctx context.Context, in IncidentInput) (Incident, error) {
	if len(in.Details) > 2000 {
		in.Details = in.Details[:2000]
	}
	var x Incident
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO incidents (key, district_id, municipality_id, kind, booking_id, amount_cents, details)
			SELECT $1, b.district_id, b.municipality_id, $3, b.id, $4, $5 FROM bookings b WHERE b.id = $2::uuid
			ON CONFLICT (key) DO NOTHING`, in.Key, in.BookingID, in.Kind, in.AmountCents, in.Details); err != nil {
			return err
		}
		var err error
		x, err = scanIncident(tx.QueryRow(ctx, `SELECT `+incidentColumns+incidentFrom+` WHERE i.key = $1`, in.Key))
		return err
	})
	return x, MapError(err)
}

// ResolveIncident closes the open incident of key, if any (a refund that
// went through after all).
func (s *Store) ResolveIncident(ctx context.Context, key string) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE incidents SET status = 'resolved', resolved_at = now(), updated_at = now()
			WHERE key = $1 AND status = 'open'`, key)
		return err
	}))
}

// IncidentRecipients are the supervisors of the incident's district.
func (s *Store) IncidentRecipients(ctx context.Context, districtID string) ([]Recipient, error) {
	var out []Recipient
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, display_name, coalesce(email, '') FROM users
			WHERE role = 'supervisor' AND district_id = $1 ORDER BY id`, districtID)
		if err != nil {
			return err
		}
		out, err = scanRecipients(rows)
		return err
	})
	return out, MapError(err)
}

// Incidents lists the incidents the scope may read (row-level security:
// a supervisor's district), newest first; status "" is every status.
func (a API) Incidents(ctx context.Context, scope Scope, status string) ([]Incident, error) {
	out := []Incident{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+incidentColumns+incidentFrom+`
			WHERE ($1 = '' OR i.status = $1) ORDER BY i.created_at DESC, i.id LIMIT 500`, status)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			x, err := scanIncident(rows)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, MapError(err)
}
