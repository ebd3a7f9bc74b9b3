package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// BookingView is one marketplace booking as the citizen, the cooperative
// and staff read it (row-level security decides who may).
type BookingView struct {
	ID              string `json:"id"`
	Number          int64  `json:"number"`
	DistrictID      string `json:"district_id"`
	MunicipalityID  string `json:"municipality_id"`
	CitizenID       int64  `json:"citizen_id"`
	ServiceID       int64  `json:"service_id"`
	ServiceName     string `json:"service_name"`
	CooperativeID   string `json:"cooperative_id"`
	CooperativeName string `json:"cooperative_name"`
	Category        string `json:"category"`
	Unit            string `json:"unit"`
	Quantity        int    `json:"quantity"`
	UnitPriceCents  int64  `json:"unit_price_cents"`
	TotalCents      int64  `json:"total_cents"`
	PriceBasis      string `json:"price_basis"`
	VoucherID       string `json:"voucher_id,omitempty"`
	VoucherCents    int64  `json:"voucher_cents"`
	OnlineCents     int64  `json:"online_cents"`
	// The company-credit part (migration 033) and the company that funds
	// it (its name as the scope may read it: the employee sees it, a
	// cooperative sees only the amount).
	CompanyCents      int64            `json:"company_cents"`
	CompanyEmployeeID string           `json:"-"`
	CompanyName       string           `json:"company_name,omitempty"`
	PaymentID         string           `json:"payment_id,omitempty"`
	PaymentURL        string           `json:"payment_url,omitempty"`
	PaymentStatus     string           `json:"payment_status"`
	Status            string           `json:"status"`
	CancelReason      string           `json:"cancel_reason,omitempty"`
	Notes             string           `json:"notes,omitempty"`
	WorkflowID        string           `json:"-"`
	CreatedAt         time.Time        `json:"created_at"`
	UpdatedAt         time.Time        `json:"updated_at"`
	Sessions          []BookingSession `json:"sessions"`
	Offers            []BookingOffer   `json:"offers"`
	VoucherHeldCents  int64            `json:"voucher_held_cents"` // still held in booking:<id>:voucher
	OnlineHeldCents   int64            `json:"online_held_cents"`  // still held in booking:<id>:online
	CompanyHeldCents  int64            `json:"company_held_cents"` // still held in booking:<id>:company
}

// BookingSession is one unit of a booking (defined in internal/contract: the
// Booking workflow loads the sessions at start).
type BookingSession = contract.BookingSession

// BookingOffer is one offer of the booking to a cooperative.
type BookingOffer struct {
	Attempt         int        `json:"attempt"`
	CooperativeID   string     `json:"cooperative_id"`
	CooperativeName string     `json:"cooperative_name"`
	ServiceID       int64      `json:"service_id"`
	OfferedAt       time.Time  `json:"offered_at"`
	RespondBy       time.Time  `json:"respond_by"`
	Outcome         string     `json:"outcome"`
	Reason          string     `json:"reason,omitempty"`
	RespondedAt     *time.Time `json:"responded_at,omitempty"`
}

// bookingColumns are the columns scanBooking reads, from bookings b joined
// to cooperatives c.
const bookingColumns = `b.id::text, b.number, b.district_id, b.municipality_id, b.citizen_id,
	b.service_id, b.service_name, b.cooperative_id, coalesce(c.name, b.cooperative_id), b.category, b.unit, b.quantity,
	b.unit_price_cents, b.total_cents, b.price_basis, coalesce(b.voucher_id::text, ''),
	b.voucher_cents, b.online_cents, coalesce(b.payment_id, ''), coalesce(b.payment_url, ''),
	b.payment_status, b.status, coalesce(b.cancel_reason, ''), b.notes, b.workflow_id,
	b.created_at, b.updated_at, b.company_cents, coalesce(b.company_employee_id::text, ''), coalesce(co.name, '')`

// bookingFrom is the FROM clause matching bookingColumns. The cooperative is
// joined loosely: one no longer public stays named by its id for citizens.
// The company funding the company part is named only to scopes that may
// read its enrolment (the employee, the system).
const bookingFrom = ` FROM bookings b LEFT JOIN cooperatives c ON c.id = b.cooperative_id
	LEFT JOIN company_employees ce ON ce.id = b.company_employee_id LEFT JOIN companies co ON co.id = ce.company_id`

func scanBooking(row pgx.Row) (BookingView, error) {
	var b BookingView
	err := row.Scan(&b.ID, &b.Number, &b.DistrictID, &b.MunicipalityID, &b.CitizenID,
		&b.ServiceID, &b.ServiceName, &b.CooperativeID, &b.CooperativeName, &b.Category, &b.Unit, &b.Quantity,
		&b.UnitPriceCents, &b.TotalCents, &b.PriceBasis, &b.VoucherID,
		&b.VoucherCents, &b.OnlineCents, &b.PaymentID, &b.PaymentURL,
		&b.PaymentStatus, &b.Status, &b.CancelReason, &b.Notes, &b.WorkflowID,
		&b.CreatedAt, &b.UpdatedAt, &b.CompanyCents, &b.CompanyEmployeeID, &b.CompanyName)
	return b, err
}

// Booking reads one booking with its sessions, offers and held balances.
// Not visible to scope: ErrNotFound.
func (a API) Booking(ctx context.Context, scope Scope, id string) (BookingView, error) {
	var b BookingView
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		b, err = BookingTx(ctx, tx, id)
		return err
	})
	return b, MapError(err)
}

// bookingSessionsSQL reads the sessions of booking $1, in order
// (collectBookingSessions scans them).
const bookingSessionsSQL = `SELECT id, seq, voucher_cents, online_cents, scheduled_at, status,
		coalesce(cooperative_id, ''), delivered_at, delivery_note, confirmed_at, coalesce(confirmed_by, ''), company_cents
		FROM booking_sessions WHERE booking_id = $1 ORDER BY seq`

// bookingSessionsTx reads the sessions of a booking, in order.
func bookingSessionsTx(ctx context.Context, tx pgx.Tx, id string) ([]BookingSession, error) {
	rows, err := tx.Query(ctx, bookingSessionsSQL, id)
	if err != nil {
		return nil, err
	}
	return collectBookingSessions(rows)
}

// collectBookingSessions scans the rows of bookingSessionsSQL.
func collectBookingSessions(rows pgx.Rows) ([]BookingSession, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BookingSession, error) {
		var s BookingSession
		err := r.Scan(&s.ID, &s.Seq, &s.VoucherCents, &s.OnlineCents, &s.ScheduledAt, &s.Status,
			&s.CooperativeID, &s.DeliveredAt, &s.DeliveryNote, &s.ConfirmedAt, &s.ConfirmedBy, &s.CompanyCents)
		return s, err
	})
}

// BookingTx reads one booking inside tx (see Booking), in one round trip.
func BookingTx(ctx context.Context, tx pgx.Tx, id string) (BookingView, error) {
	if _, err := uuid.Parse(id); err != nil {
		return BookingView{}, pgx.ErrNoRows
	}
	var b BookingView
	rb := &pgx.Batch{}
	queueBookingView(rb, id, &b)
	err := tx.SendBatch(ctx, rb).Close()
	return b, err
}

// queueBookingView queues BookingTx's reads of booking id (a valid UUID) in
// rb: the booking, its sessions, its offers and its held balances, none of
// which waits for another's answer. They fill *b as the batch runs; a
// booking not there is pgx.ErrNoRows (the batch's error).
func queueBookingView(rb *pgx.Batch, id string, b *BookingView) {
	rb.Queue(`SELECT `+bookingColumns+bookingFrom+` WHERE b.id = $1`, id).QueryRow(func(row pgx.Row) error {
		v, err := scanBooking(row)
		*b = v
		return err
	})
	rb.Queue(bookingSessionsSQL, id).Query(func(rows pgx.Rows) error {
		var err error
		b.Sessions, err = collectBookingSessions(rows)
		return err
	})
	rb.Queue(`SELECT o.attempt, o.cooperative_id, coalesce(c.name, o.cooperative_id), o.service_id, o.offered_at, o.respond_by,
		o.outcome, o.reason, o.responded_at
		FROM booking_offers o LEFT JOIN cooperatives c ON c.id = o.cooperative_id
		WHERE o.booking_id = $1 ORDER BY o.attempt`, id).Query(func(rows pgx.Rows) error {
		var err error
		b.Offers, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BookingOffer, error) {
			var o BookingOffer
			err := r.Scan(&o.Attempt, &o.CooperativeID, &o.CooperativeName, &o.ServiceID, &o.OfferedAt, &o.RespondBy,
				&o.Outcome, &o.Reason, &o.RespondedAt)
			return o, err
		})
		return err
	})
	rb.Queue(`SELECT
		coalesce((SELECT balance_cents FROM accounts WHERE id = $1), 0),
		coalesce((SELECT balance_cents FROM accounts WHERE id = $2), 0),
		coalesce((SELECT balance_cents FROM accounts WHERE id = $3), 0)`,
		BookingVoucherAccountID(id), BookingOnlineAccountID(id), BookingCompanyAccountID(id)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&b.VoucherHeldCents, &b.OnlineHeldCents, &b.CompanyHeldCents)
	})
}
