package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sportello/internal/contract"
)

// The writes of the Booking workflow's activities (issue 5, the saga). They
// run under the system scope and are idempotent: a retried activity finds
// its work done and changes nothing, and every movement of money is a
// transfer with a key derived from the booking, the session and the kind,
// so nothing is held, posted, voided or refunded twice.

// Payment statuses of a booking (bookings.payment_status).
const (
	PaymentNone              = "none"
	PaymentPending           = "pending"
	PaymentPaid              = "paid"
	PaymentFailed            = "failed"
	PaymentRefunded          = "refunded"
	PaymentPartiallyRefunded = "partially_refunded"
)

// Session statuses (booking_sessions.status), defined in internal/contract.
const (
	SessionPlanned   = contract.SessionPlanned
	SessionDelivered = contract.SessionDelivered
	SessionConfirmed = contract.SessionConfirmed
	SessionCancelled = contract.SessionCancelled
)

// Offer outcomes (booking_offers.outcome), defined in internal/contract.
const (
	OfferPending   = contract.OfferPending
	OfferConfirmed = contract.OfferConfirmed
	OfferDeclined  = contract.OfferDeclined
	OfferExpired   = contract.OfferExpired
	OfferWithdrawn = contract.OfferWithdrawn
)

// BookingFacts is what the saga needs to know about a booking when it starts.
type BookingFacts struct {
	Booking         BookingView
	AutoconfirmDays int
}

// BookingFacts reads a booking with its sessions (not its offers or held
// balances) and its district's auto-confirmation delay: two reads in one
// round trip (Pipeline; four with InTx's BEGIN and COMMIT).
func (s *Store) BookingFacts(ctx context.Context, id string) (BookingFacts, error) {
	var f BookingFacts
	if _, err := uuid.Parse(id); err != nil {
		return f, ErrNotFound
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+bookingColumns+`, d.delivery_autoconfirm_days`+bookingFrom+`
			JOIN districts d ON d.id = b.district_id WHERE b.id = $1`, id).QueryRow(func(row pgx.Row) error {
		var err error
		f.Booking, err = scanBooking(scanTail{row, []any{&f.AutoconfirmDays}})
		return err
	})
	b.Queue(bookingSessionsSQL, id).Query(func(rows pgx.Rows) error {
		var err error
		f.Booking.Sessions, err = collectBookingSessions(rows)
		return err
	})
	err := s.pipeline(ctx, System, b, true)
	return f, MapError(err)
}

// SetBookingPayment records the provider's payment of a booking (once: a
// booking has one payment).
func (s *Store) SetBookingPayment(ctx context.Context, id, paymentID, paymentURL string) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE bookings SET payment_id = $2, payment_url = $3,
				payment_status = CASE WHEN payment_status = 'none' THEN 'pending' ELSE payment_status END, updated_at = now()
			WHERE id = $1 AND (payment_id IS NULL OR payment_id = $2)`, id, paymentID, paymentURL)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return Conflict("payment_mismatch", "booking "+id+" has another payment or does not exist")
		}
		return nil
	}))
}

// bookingTransfer moves a booking's money, creating the accounts it needs,
// in one round trip (queueBookingTransfer).
func bookingTransfer(ctx context.Context, tx pgx.Tx, district, bookingID string, in TransferInput) error {
	_, err := bookingTransferNow(ctx, tx, district, bookingID, in)
	return err
}

// bookingTransferNow is bookingTransfer, also saying whether this call
// applied the transfer (false: its key had been applied before).
func bookingTransferNow(ctx context.Context, tx pgx.Tx, district, bookingID string, in TransferInput) (bool, error) {
	b := &pgx.Batch{}
	q := queueBookingTransfer(b, district, bookingID, in)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return false, MapError(err)
	}
	if err := q.check(ctx, tx); err != nil {
		return false, err
	}
	return q.created, nil
}

// RecordBookingPayment books the online payment of a booking into its
// online account (once) and moves an awaiting booking to requested.
func (s *Store) RecordBookingPayment(ctx context.Context, id, paymentID string, amount int64) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		var district, status string
		var online int64
		var current *string
		if err := tx.QueryRow(ctx, `SELECT district_id, online_cents, payment_id, status FROM bookings WHERE id = $1 FOR UPDATE`, id).
			Scan(&district, &online, &current, &status); err != nil {
			return err
		}
		if current != nil && *current != paymentID {
			return Conflict("payment_mismatch", "the payment is not this booking's")
		}
		if amount != online {
			return Conflict("payment_amount", fmt.Sprintf("paid %d cents, the booking's online part is %d", amount, online))
		}
		if err := bookingTransfer(ctx, tx, district, id, TransferInput{Key: "booking:" + id + ":payment",
			From: PaymentsAccountID(district), To: BookingOnlineAccountID(id), Amount: amount, Kind: TransferPayment}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE bookings SET payment_id = $2, payment_status = 'paid', status = $3, updated_at = now()
			WHERE id = $1 AND payment_status IN ('none','pending','failed')`, id, paymentID, contract.BookingStatusRequestable(status))
		return err
	}))
}

// MarkBookingPaymentFailed records a failed or abandoned payment.
func (s *Store) MarkBookingPaymentFailed(ctx context.Context, id string) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE bookings SET payment_status = 'failed', updated_at = now()
			WHERE id = $1 AND payment_status IN ('none','pending')`, id)
		return err
	}))
}

// MarkBookingRequested moves a booking without an online part to requested
// (contract.BookingStatusRequestable: only a booking awaiting payment
// moves), in one statement and one round trip.
func (s *Store) MarkBookingRequested(ctx context.Context, id string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE bookings SET status = $3, updated_at = now() WHERE id = $1 AND status = $2`,
		id, contract.BookingAwaitingPayment, contract.BookingStatusRequestable(contract.BookingAwaitingPayment))
	return MapError(s.pipeline(ctx, System, b, true))
}

// The offers of a booking and the inputs of the saga's steps are defined in
// internal/contract (they travel in the Booking workflow's history).
type (
	OfferInput           = contract.OfferInput
	Offer                = contract.Offer
	CloseOfferInput      = contract.CloseOfferInput
	AcceptOfferInput     = contract.AcceptOfferInput
	DeliveryInput        = contract.DeliveryInput
	ConfirmSessionsInput = contract.ConfirmSessionsInput
	CancelSessionsInput  = contract.CancelSessionsInput
)

// OfferBooking offers the booking for the attempt-th time: the first offer
// goes to the cooperative booked; later ones to the next accredited
// cooperative with an equivalent service (same category and unit, published,
// serving the citizen's municipality, at a price for the citizen's ISEE band
// not above the booked unit price, not offered before), cheapest first. The
// booking then names that service and cooperative. The offer row is written
// once: a retry returns it.
func (s *Store) OfferBooking(ctx context.Context, in OfferInput) (Offer, error) {
	out := Offer{Attempt: in.Attempt}
	err := s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		// One round trip for the reads: the booking (locked first), the
		// offer if a retry finds it written, and the cooperative booked
		// (the first offer's).
		var (
			b           BookingView
			existing    bool
			bookedName  string
			bookedHours int
			bookedFound bool
		)
		rb := &pgx.Batch{}
		rb.Queue(`SELECT `+bookingColumns+bookingFrom+` WHERE b.id = $1 FOR UPDATE OF b`, in.BookingID).QueryRow(func(row pgx.Row) error {
			var err error
			b, err = scanBooking(row)
			return err
		})
		rb.Queue(`SELECT o.cooperative_id, coalesce(c.name, o.cooperative_id), o.service_id, o.respond_by
			FROM booking_offers o LEFT JOIN cooperatives c ON c.id = o.cooperative_id
			WHERE o.booking_id = $1 AND o.attempt = $2`, in.BookingID, in.Attempt).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				existing = true
				if err := rows.Scan(&out.CooperativeID, &out.CooperativeName, &out.ServiceID, &out.RespondBy); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if in.Attempt == 1 {
			rb.Queue(`SELECT c.name, c.response_hours FROM cooperatives c
				WHERE c.id = (SELECT cooperative_id FROM bookings WHERE id = $1)`, in.BookingID).Query(func(rows pgx.Rows) error {
				for rows.Next() {
					bookedFound = true
					if err := rows.Scan(&bookedName, &bookedHours); err != nil {
						return err
					}
				}
				return rows.Err()
			})
		}
		if err := tx.SendBatch(ctx, rb).Close(); err != nil {
			return err
		}
		if existing {
			out.Found, out.ServiceName = true, b.ServiceName
			return nil
		}
		var sv Service
		var hours int
		if in.Attempt == 1 {
			sv = Service{ID: b.ServiceID, CooperativeID: b.CooperativeID, Name: b.ServiceName}
			if !bookedFound {
				return pgx.ErrNoRows
			}
			out.CooperativeName, hours = bookedName, bookedHours
		} else {
			var ok bool
			var err error
			if sv, ok, err = nextEquivalentService(ctx, tx, b); err != nil || !ok {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT name, response_hours FROM cooperatives WHERE id = $1`, sv.CooperativeID).
				Scan(&out.CooperativeName, &hours); err != nil {
				return err
			}
		}
		out.Found, out.CooperativeID, out.ServiceID, out.ServiceName = true, sv.CooperativeID, sv.ID, sv.Name
		out.RespondBy = in.At.Add(time.Duration(hours) * time.Hour)
		// The two writes in one round trip.
		wb := &pgx.Batch{}
		wb.Queue(`INSERT INTO booking_offers (booking_id, attempt, cooperative_id, service_id, offered_at, respond_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, in.BookingID, in.Attempt, sv.CooperativeID, sv.ID, in.At, out.RespondBy)
		wb.Queue(`UPDATE bookings SET service_id = $2, cooperative_id = $3, service_name = $4, status = $5, updated_at = now()
			WHERE id = $1`, in.BookingID, sv.ID, sv.CooperativeID, sv.Name, contract.BookingStatusRequestable(b.Status))
		return tx.SendBatch(ctx, wb).Close()
	})
	return out, MapError(err)
}

// nextEquivalentService finds the service the booking is offered to next.
func nextEquivalentService(ctx context.Context, tx pgx.Tx, b BookingView) (Service, bool, error) {
	rows, err := tx.Query(ctx, `SELECT `+serviceColumns+` FROM services s JOIN cooperatives c ON c.id = s.cooperative_id
		WHERE s.district_id = $1 AND s.category = $2 AND s.unit = $3 AND s.published
		  AND cooperative_public(c.accreditation_status, c.accredited_until, c.certification_expires)
		  AND EXISTS (SELECT 1 FROM service_municipalities m WHERE m.service_id = s.id AND m.municipality_id = $4)
		  AND NOT EXISTS (SELECT 1 FROM booking_offers o WHERE o.booking_id = $5 AND o.cooperative_id = s.cooperative_id)
		ORDER BY s.price_cents, s.id`, b.DistrictID, b.Category, b.Unit, b.MunicipalityID, b.ID)
	if err != nil {
		return Service{}, false, err
	}
	candidates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Service, error) { return scanService(r) })
	if err != nil || len(candidates) == 0 {
		return Service{}, false, err
	}
	if err := loadServiceDetails(ctx, tx, candidates); err != nil {
		return Service{}, false, err
	}
	ci, known, err := citizenISEETx(ctx, tx, b.CitizenID)
	if err != nil {
		return Service{}, false, err
	}
	var isee *int
	if known {
		isee = &ci.Euro
	}
	type priced struct {
		sv    Service
		cents int64
	}
	var ok []priced
	for _, sv := range candidates {
		if q := sv.Quote(b.MunicipalityID, isee); q.Cents <= b.UnitPriceCents {
			ok = append(ok, priced{sv, q.Cents})
		}
	}
	if len(ok) == 0 {
		return Service{}, false, nil
	}
	slices.SortStableFunc(ok, func(x, y priced) int {
		if x.cents != y.cents {
			return int(min(max(x.cents-y.cents, -1), 1))
		}
		return int(min(max(x.sv.ID-y.sv.ID, -1), 1))
	})
	return ok[0].sv, true, nil
}

// userRef is a user id for a nullable reference (0: NULL).
func userRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CloseOffer ends a pending offer; an offer already closed is left as it is.
func (s *Store) CloseOffer(ctx context.Context, in CloseOfferInput) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE booking_offers SET outcome = $3, reason = $4, responded_by = $5, responded_at = $6
			WHERE booking_id = $1 AND attempt = $2 AND outcome = 'pending'`, in.BookingID, in.Attempt, in.Outcome, in.Reason, userRef(in.By), in.At)
		return err
	}))
}

// AcceptOffer confirms the offer, schedules the sessions and confirms the
// booking (once: when the offer is no longer pending, an earlier attempt of
// the activity did it, and nothing changes). One statement, one round trip:
// the sessions and the booking change only when the offer did.
func (s *Store) AcceptOffer(ctx context.Context, in AcceptOfferInput) error {
	dates := in.Dates
	if dates == nil {
		dates = []time.Time{}
	}
	b := &pgx.Batch{}
	b.Queue(`WITH o AS (
			UPDATE booking_offers SET outcome = 'confirmed', responded_by = $3, responded_at = $4
			WHERE booking_id = $1 AND attempt = $2 AND outcome = 'pending' RETURNING 1
		), sessions AS (
			UPDATE booking_sessions s SET scheduled_at = d.at
			FROM unnest($5::timestamptz[]) WITH ORDINALITY AS d(at, seq)
			WHERE EXISTS (SELECT FROM o) AND s.booking_id = $1 AND s.seq = d.seq AND s.status = 'planned'
		)
		UPDATE bookings SET status = 'confirmed', updated_at = now()
		WHERE id = $1 AND status = 'requested' AND EXISTS (SELECT FROM o)`,
		in.BookingID, in.Attempt, userRef(in.By), in.At, dates)
	return MapError(s.pipeline(ctx, System, b, true))
}

// refreshBookingStatus derives a booking's status from its sessions
// (contract.BookingStatusFromSessions, the rule the workflow applies too).
func refreshBookingStatus(ctx context.Context, tx pgx.Tx, id string) error {
	var st bookingStatusRead
	b := &pgx.Batch{}
	st.queue(b, id)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return st.write(ctx, tx, id)
}

// bookingStatusRead is the first half of refreshBookingStatus, queued in a
// batch after the writes to the sessions (the read sees them: a later
// statement of the same transaction), so that the two take one round trip.
type bookingStatusRead struct {
	found    bool
	current  string
	sessions []string
}

// queue queues the read of the booking's status (locking it) and of its
// sessions' statuses.
func (r *bookingStatusRead) queue(b *pgx.Batch, id string) {
	b.Queue(`SELECT status, ARRAY(SELECT s.status FROM booking_sessions s WHERE s.booking_id = b.id)
		FROM bookings b WHERE id = $1 FOR UPDATE`, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			r.found = true
			if err := rows.Scan(&r.current, &r.sessions); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// write stores the status derived from what queue read (nothing when the
// booking does not exist).
func (r *bookingStatusRead) write(ctx context.Context, tx pgx.Tx, id string) error {
	sql, args := r.update(id)
	if sql == "" {
		return nil
	}
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// update is the statement write runs ("" when the booking does not exist).
func (r *bookingStatusRead) update(id string) (string, []any) {
	if !r.found {
		return "", nil
	}
	return `UPDATE bookings SET status = $2, updated_at = now() WHERE id = $1`,
		[]any{id, contract.BookingStatusFromSessions(r.current, r.sessions)}
}

// RecordSessionDelivery marks a planned session delivered (a delivered one
// is left as it is). The session's write and the booking's status read go
// in one round trip.
func (s *Store) RecordSessionDelivery(ctx context.Context, in DeliveryInput) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		var changed bool
		var st bookingStatusRead
		b := &pgx.Batch{}
		b.Queue(`UPDATE booking_sessions SET status = 'delivered', cooperative_id = $3, delivered_by = $4,
				delivered_at = $5, delivery_note = $6
			WHERE booking_id = $1 AND seq = $2 AND status = 'planned'`, in.BookingID, in.Seq, in.CooperativeID, userRef(in.By), in.DeliveredAt, in.Note).
			Exec(func(tag pgconn.CommandTag) error {
				changed = tag.RowsAffected() > 0
				return nil
			})
		st.queue(b, in.BookingID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if !changed {
			return nil // delivered by an earlier attempt of this activity
		}
		return st.write(ctx, tx, in.BookingID)
	}))
}

// ConfirmSessions confirms delivered sessions and moves each one's money to
// the cooperative that delivered it: the voucher share (post) and the online
// share (settle), each under a key of its own session.
//
// Round trips: the booking (locked) and the sessions in one, the sessions'
// confirmation and the status read in one, then the status, and the
// ledger's transfers.
func (s *Store) ConfirmSessions(ctx context.Context, in ConfirmSessionsInput) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		type session struct {
			voucher, online, company int64
			coop, status             string
		}
		var district string
		found := map[int]session{}
		rb := &pgx.Batch{}
		rb.Queue(`SELECT district_id FROM bookings WHERE id = $1 FOR UPDATE`, in.BookingID).QueryRow(func(row pgx.Row) error {
			return row.Scan(&district)
		})
		rb.Queue(`SELECT seq, voucher_cents, online_cents, company_cents, coalesce(cooperative_id, ''), status FROM booking_sessions
			WHERE booking_id = $1 AND seq = ANY($2)`, in.BookingID, in.Seqs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var seq int
				var x session
				if err := rows.Scan(&seq, &x.voucher, &x.online, &x.company, &x.coop, &x.status); err != nil {
					return err
				}
				found[seq] = x
			}
			return rows.Err()
		})
		if err := tx.SendBatch(ctx, rb).Close(); err != nil {
			return err
		}
		var transfers []TransferInput
		for _, seq := range in.Seqs {
			x, ok := found[seq]
			if !ok {
				return pgx.ErrNoRows
			}
			if x.status != SessionDelivered && x.status != SessionConfirmed {
				return Conflict("session_not_delivered", fmt.Sprintf("session %d is %s", seq, x.status))
			}
			key := fmt.Sprintf("booking:%s:session:%d:", in.BookingID, seq)
			if x.voucher > 0 {
				transfers = append(transfers, TransferInput{Key: key + "post",
					From: BookingVoucherAccountID(in.BookingID), To: CooperativeAccountID(x.coop), Amount: x.voucher, Kind: TransferPost})
			}
			if x.company > 0 {
				// The company's part is owed to the cooperative like the
				// voucher's and billed with it, named by funder (billing.go).
				transfers = append(transfers, TransferInput{Key: key + "post-company",
					From: BookingCompanyAccountID(in.BookingID), To: CooperativeAccountID(x.coop), Amount: x.company, Kind: TransferPost})
			}
			if x.online > 0 {
				transfers = append(transfers, TransferInput{Key: key + "settle",
					From: BookingOnlineAccountID(in.BookingID), To: CooperativeOnlineAccountID(x.coop), Amount: x.online, Kind: TransferSettle})
			}
		}
		var st bookingStatusRead
		wb := &pgx.Batch{}
		wb.Queue(`UPDATE booking_sessions SET status = 'confirmed', confirmed_at = $3, confirmed_by = $4
			WHERE booking_id = $1 AND seq = ANY($2) AND status = 'delivered'`, in.BookingID, in.Seqs, in.At, in.By)
		st.queue(wb, in.BookingID)
		if err := tx.SendBatch(ctx, wb).Close(); err != nil {
			return err
		}
		// The status and the money in one round trip, the money last: the
		// cooperative's account, which every booking it delivered posts
		// to, stays locked only from its transfer to the commit (one more
		// round trip; confirmations of its bookings queued on it before).
		mb := &pgx.Batch{}
		if sql, args := st.update(in.BookingID); sql != "" {
			mb.Queue(sql, args...)
		}
		queued := make([]*queuedTransfer, len(transfers))
		for i, t := range transfers {
			queued[i] = queueBookingTransfer(mb, district, in.BookingID, t)
		}
		if err := tx.SendBatch(ctx, mb).Close(); err != nil {
			return err
		}
		for _, q := range queued {
			if err := q.check(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}))
}

// CancelSessions cancels planned sessions and gives each one's voucher share
// back to the voucher and its company share back to the employee's company
// credit (void, each under a key of its own session): each funder gets
// exactly its parts of the cancelled sessions (funding.Refund); the online
// shares are refunded through the provider (RecordBookingRefund). A session
// delivered or confirmed meanwhile is left alone; the booking keeps the
// first cancellation's reason. The company share of an employee withdrawn
// since goes on to the company's account (revoke), as their credit did.
func (s *Store) CancelSessions(ctx context.Context, in CancelSessionsInput) error {
	return MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		var district, voucherID, employeeID, companyID string
		var withdrawn bool
		if err := tx.QueryRow(ctx, `SELECT b.district_id, coalesce(b.voucher_id::text, ''), coalesce(b.company_employee_id::text, ''),
				coalesce(e.company_id, ''), coalesce(e.status = 'withdrawn', false)
			FROM bookings b LEFT JOIN company_employees e ON e.id = b.company_employee_id WHERE b.id = $1 FOR UPDATE OF b`, in.BookingID).
			Scan(&district, &voucherID, &employeeID, &companyID, &withdrawn); err != nil {
			return err
		}
		for _, seq := range in.Seqs {
			var voucher, company int64
			var status string
			if err := tx.QueryRow(ctx, `SELECT voucher_cents, company_cents, status FROM booking_sessions WHERE booking_id = $1 AND seq = $2`,
				in.BookingID, seq).Scan(&voucher, &company, &status); err != nil {
				return err
			}
			if status != SessionPlanned && status != SessionCancelled {
				continue
			}
			key := fmt.Sprintf("booking:%s:session:%d:", in.BookingID, seq)
			if voucher > 0 && voucherID != "" {
				if err := bookingTransfer(ctx, tx, district, in.BookingID, TransferInput{Key: key + "void",
					From: BookingVoucherAccountID(in.BookingID), To: VoucherAccountID(voucherID), Amount: voucher, Kind: TransferVoid,
					VoucherID: voucherID}); err != nil {
					return err
				}
			}
			if company > 0 && employeeID != "" {
				if err := bookingTransfer(ctx, tx, district, in.BookingID, TransferInput{Key: key + "void-company",
					From: BookingCompanyAccountID(in.BookingID), To: CompanyCreditAccountID(employeeID), Amount: company,
					Kind: TransferVoid}); err != nil {
					return err
				}
				// An employee withdrawn since: what comes back goes on to the
				// company, as their credit did at the withdrawal.
				if withdrawn {
					if _, _, err := Transfer(ctx, tx, TransferInput{Key: key + "void-company:revoke", From: CompanyCreditAccountID(employeeID),
						To: CompanyAccountID(companyID), Amount: company, Kind: TransferRevoke}); err != nil {
						return err
					}
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE booking_sessions SET status = 'cancelled' WHERE booking_id = $1 AND seq = $2 AND status = 'planned'`,
				in.BookingID, seq); err != nil {
				return err
			}
		}
		if in.Withdraw {
			if _, err := tx.Exec(ctx, `UPDATE booking_offers SET outcome = 'withdrawn', reason = $2, responded_at = $3
				WHERE booking_id = $1 AND outcome = 'pending'`, in.BookingID, in.Reason, in.At); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE bookings SET cancel_reason = coalesce(cancel_reason, $2) WHERE id = $1`,
			in.BookingID, in.Reason); err != nil {
			return err
		}
		return refreshBookingStatus(ctx, tx, in.BookingID)
	}))
}

// RecordBookingRefund books, once per session, the refund of the online
// shares of cancelled sessions (the provider has refunded them) and updates
// the payment's status. It reports whether this call booked a refund
// (false when every share had been booked before, or none was online): a
// retried activity counts the refund once.
func (s *Store) RecordBookingRefund(ctx context.Context, bookingID string, seqs []int) (bool, error) {
	booked := false
	err := MapError(s.inTx(ctx, System, true, func(tx pgx.Tx) error {
		booked = false
		var district string
		if err := tx.QueryRow(ctx, `SELECT district_id FROM bookings WHERE id = $1 FOR UPDATE`, bookingID).Scan(&district); err != nil {
			return err
		}
		for _, seq := range seqs {
			var online int64
			var status string
			if err := tx.QueryRow(ctx, `SELECT online_cents, status FROM booking_sessions WHERE booking_id = $1 AND seq = $2`,
				bookingID, seq).Scan(&online, &status); err != nil {
				return err
			}
			if status != SessionCancelled {
				return Conflict("session_not_cancelled", fmt.Sprintf("session %d is %s", seq, status))
			}
			if online > 0 {
				created, err := bookingTransferNow(ctx, tx, district, bookingID, TransferInput{Key: fmt.Sprintf("booking:%s:session:%d:refund", bookingID, seq),
					From: BookingOnlineAccountID(bookingID), To: PaymentsAccountID(district), Amount: online, Kind: TransferRefund})
				if err != nil {
					return err
				}
				booked = booked || created
			}
		}
		_, err := tx.Exec(ctx, `UPDATE bookings b SET payment_status = CASE
				WHEN NOT EXISTS (SELECT 1 FROM booking_sessions s WHERE s.booking_id = b.id AND s.status <> 'cancelled' AND s.online_cents > 0)
				THEN 'refunded' ELSE 'partially_refunded' END, updated_at = now()
			WHERE b.id = $1 AND b.payment_status IN ('paid','partially_refunded')`, bookingID)
		return err
	}))
	return booked && err == nil, err
}

// BookingNotice is what a notification about a booking needs.
type BookingNotice struct {
	Number      int64
	ServiceName string
	Cooperative string
	Name        string
	Email       string
	// CompanyReturnedCents is the company credit given back for the
	// booking's cancelled sessions (migration 033).
	CompanyReturnedCents int64
}

// BookingNoticeFacts reads the citizen and the booking's names, in one
// round trip.
func (s *Store) BookingNoticeFacts(ctx context.Context, id string) (BookingNotice, error) {
	var n BookingNotice
	b := &pgx.Batch{}
	b.Queue(`SELECT b.number, b.service_name, coalesce(c.name, b.cooperative_id), u.display_name, coalesce(u.email, ''),
				(SELECT coalesce(sum(s.company_cents), 0) FROM booking_sessions s WHERE s.booking_id = b.id AND s.status = 'cancelled')::bigint
			FROM bookings b JOIN users u ON u.id = b.citizen_id LEFT JOIN cooperatives c ON c.id = b.cooperative_id
			WHERE b.id = $1`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&n.Number, &n.ServiceName, &n.Cooperative, &n.Name, &n.Email, &n.CompanyReturnedCents)
	})
	return n, MapError(s.pipeline(ctx, System, b, true))
}
