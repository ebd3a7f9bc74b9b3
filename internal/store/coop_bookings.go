package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cooperative's inbox of bookings (issue 5): requests pending on it
// with their deadline, the bookings it holds, the sessions it delivered.
// Reads run under the cooperative's scope: row-level security shows a
// cooperative only the bookings it holds or was offered.

// CoopBookingItem is one line of a cooperative's inbox.
type CoopBookingItem struct {
	BookingView
	Attempt   int        `json:"attempt,omitempty"`    // the offer pending on the cooperative
	RespondBy *time.Time `json:"respond_by,omitempty"` // its deadline
}

// CoopBookingViews are the lists of the inbox.
const (
	CoopRequests = "requests" // offers pending on the cooperative, closest deadline first
	CoopActive   = "active"   // bookings it holds, confirmed or being delivered
)

// CoopBookings lists the requests pending on the scope's cooperative or the
// bookings it holds (view CoopRequests or CoopActive), at most 200.
func (a API) CoopBookings(ctx context.Context, scope Scope, view string) ([]CoopBookingItem, error) {
	q := `SELECT ` + bookingColumns + `, o.attempt, o.respond_by` + bookingFrom + `
		JOIN booking_offers o ON o.booking_id = b.id AND o.cooperative_id = (SELECT sportello_cooperative()) AND o.outcome = 'pending'
		ORDER BY o.respond_by, b.number LIMIT 200`
	if view == CoopActive {
		q = `SELECT ` + bookingColumns + `, 0, NULL::timestamptz` + bookingFrom + `
			WHERE b.cooperative_id = (SELECT sportello_cooperative()) AND b.status IN ('confirmed','delivered')
			ORDER BY b.created_at, b.number LIMIT 200`
	}
	var out []CoopBookingItem
	// One round trip (readBatch): the cooperative's inbox is read often.
	err := a.s.readBatch(ctx, scope, q, nil, func(rows pgx.Rows) error {
		var err error
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CoopBookingItem, error) {
			var it CoopBookingItem
			var attempt int
			b, err := scanBooking(scanTail{r, []any{&attempt, &it.RespondBy}})
			it.BookingView, it.Attempt = b, attempt
			return it, err
		})
		return err
	})
	if out == nil {
		out = []CoopBookingItem{}
	}
	return out, MapError(err)
}

// scanTail lets scanBooking read a row with extra columns after the booking's.
type scanTail struct {
	row   pgx.Row
	extra []any
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

// CoopBookingDetail is a booking as its cooperative reads it, with the
// citizen to serve when the cooperative holds it or is asked to.
type CoopBookingDetail struct {
	BookingView
	CitizenName  string        `json:"citizen_name"`
	CitizenEmail string        `json:"citizen_email,omitempty"`
	Pending      *BookingOffer `json:"pending_offer,omitempty"` // the offer pending on this cooperative
	Holder       bool          `json:"holder"`                  // the cooperative holds the booking
}

// CoopBooking reads one booking for the scope's cooperative (ErrNotFound
// when it neither holds it nor was offered it).
func (a API) CoopBooking(ctx context.Context, scope Scope, cooperative, id string) (CoopBookingDetail, error) {
	var d CoopBookingDetail
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		if d.BookingView, err = BookingTx(ctx, tx, id); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return d, MapError(err)
	}
	d.Holder = d.CooperativeID == cooperative
	for i := range d.Offers {
		if o := d.Offers[i]; o.CooperativeID == cooperative && o.Outcome == OfferPending {
			d.Pending = &o
		}
	}
	if !d.Holder && d.Pending == nil {
		return d, nil // offered once, declined or expired: no personal data
	}
	err = a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT display_name, coalesce(email, '') FROM users WHERE id = $1`, d.CitizenID).
			Scan(&d.CitizenName, &d.CitizenEmail)
	})
	return d, MapError(err)
}

// CoopDelivery is one session a cooperative delivered.
type CoopDelivery struct {
	BookingID     string     `json:"booking_id"`
	BookingNumber int64      `json:"booking_number"`
	ServiceName   string     `json:"service_name"`
	Seq           int        `json:"seq"`
	Status        string     `json:"status"`
	DeliveredAt   time.Time  `json:"delivered_at"`
	ConfirmedAt   *time.Time `json:"confirmed_at,omitempty"`
	ConfirmedBy   string     `json:"confirmed_by,omitempty"`
	VoucherCents  int64      `json:"voucher_cents"`
	OnlineCents   int64      `json:"online_cents"`
}

// CoopDeliveries lists the sessions the scope's cooperative delivered,
// newest first, at most 200.
func (a API) CoopDeliveries(ctx context.Context, scope Scope) ([]CoopDelivery, error) {
	var out []CoopDelivery
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT b.id::text, b.number, b.service_name, s.seq, s.status, s.delivered_at, s.confirmed_at,
				coalesce(s.confirmed_by, ''), s.voucher_cents, s.online_cents
			FROM booking_sessions s JOIN bookings b ON b.id = s.booking_id
			WHERE s.cooperative_id = (SELECT sportello_cooperative()) AND s.status IN ('delivered','confirmed')
			ORDER BY s.delivered_at DESC, b.number, s.seq LIMIT 200`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (CoopDelivery, error) {
			var d CoopDelivery
			err := r.Scan(&d.BookingID, &d.BookingNumber, &d.ServiceName, &d.Seq, &d.Status, &d.DeliveredAt, &d.ConfirmedAt,
				&d.ConfirmedBy, &d.VoucherCents, &d.OnlineCents)
			return d, err
		})
		return err
	})
	if out == nil {
		out = []CoopDelivery{}
	}
	return out, MapError(err)
}
