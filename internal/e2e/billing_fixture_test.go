package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/store"
)

// billingFixture writes, directly in the database, what checkout and the
// booking saga would have produced (their code lives on other branches):
// a funded voucher of cittadino.tradate, voucher-paid bookings of Baobab in
// Tradate with their sessions and hold, confirmed sessions with their post
// transfer, and redemptions at esercente.tradate's till. The ledger stays
// balanced at every step, as the saga keeps it.
type billingFixture struct {
	t                           *testing.T
	st                          *store.Store
	citizen                     int64
	fund, merchant              string
	service                     int64
	serviceName, category, unit string
	voucherID, code             string
}

var billingCaseSeq int

func newBillingFixture(t *testing.T, st *store.Store) *billingFixture {
	t.Helper()
	ctx := context.Background()
	f := &billingFixture{t: t, st: st}
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE username = 'cittadino.tradate'`).Scan(&f.citizen); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT merchant_id FROM users WHERE username = 'esercente.tradate'`).Scan(&f.merchant); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND form_id = 'buoni-spesa'`).Scan(&f.fund); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT s.id, s.name, s.category, s.unit FROM services s
			JOIN service_municipalities sm ON sm.service_id = s.id
			WHERE s.cooperative_id = 'baobab' AND sm.municipality_id = 'tradate' ORDER BY s.id LIMIT 1`).
			Scan(&f.service, &f.serviceName, &f.category, &f.unit)
	})
	if err != nil {
		t.Fatalf("billing fixture: %v", err)
	}
	billingCaseSeq++
	caseID := fmt.Sprintf("BS-BILL-%06d", billingCaseSeq)
	data, _ := json.Marshal(map[string]any{"household": map[string]any{"members": 3, "minors": 1}, "isee_euro": 8000})
	err = st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, 'tradate', 'tradate', $2, 'RSSMRA80A41L319S', 'buoni-spesa', 1, $3, $4, 'in_review', 'case:'||$1, 'h')`,
			caseID, f.citizen, f.fund, data)
		return err
	})
	if err != nil {
		t.Fatalf("case: %v", err)
	}
	aw, err := st.Award(ctx, store.AwardInput{DecisionInput: store.DecisionInput{TaskID: uuid.Nil.String(), CaseID: caseID,
		Actor: "operatore.tradate", At: time.Now()}, AmountCents: 50000})
	if err != nil {
		t.Fatalf("award: %v", err)
	}
	if err := st.ReleaseTranche(ctx, store.TrancheInput{CaseID: caseID, VoucherID: aw.VoucherID, Index: 0, AmountCents: 50000, At: time.Now()}); err != nil {
		t.Fatalf("release: %v", err)
	}
	f.voucherID, f.code = aw.VoucherID, aw.Code
	return f
}

// lastMonth is an instant in the month before now (Italian time).
func lastMonth(day int) time.Time {
	now := time.Now().In(calendar.Rome())
	first := time.Date(now.Year(), now.Month(), 1, 10, 0, 0, 0, calendar.Rome())
	return first.AddDate(0, -1, day-1)
}

// book writes a voucher-paid booking of units sessions with its hold.
func (f *billingFixture) book(units int, unitCents int64) (string, []int64) {
	f.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	var sessions []int64
	err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		total := unitCents * int64(units)
		if _, err := tx.Exec(ctx, `INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id,
			service_name, category, unit, quantity, unit_price_cents, total_cents, voucher_id, voucher_cents, online_cents, status, workflow_id)
			VALUES ($1, 'tradate', 'tradate', $2, $3, 'baobab', $4, $5, $6, $7, $8, $9, $10, $9, 0, 'confirmed', $11)`,
			id, f.citizen, f.service, f.serviceName, f.category, f.unit, units, unitCents, total, f.voucherID, "booking:"+id); err != nil {
			return err
		}
		for seq := 1; seq <= units; seq++ {
			var sid int64
			if err := tx.QueryRow(ctx, `INSERT INTO booking_sessions (booking_id, seq, voucher_cents, online_cents)
				VALUES ($1, $2, $3, 0) RETURNING id`, id, seq, unitCents).Scan(&sid); err != nil {
				return err
			}
			sessions = append(sessions, sid)
		}
		if err := store.EnsureAccount(ctx, tx, store.BookingVoucherAccountID(id), "tradate", store.AccountBookingVoucher, false); err != nil {
			return err
		}
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "hold:" + id, From: store.VoucherAccountID(f.voucherID),
			To: store.BookingVoucherAccountID(id), Amount: total, Kind: store.TransferHold, VoucherID: f.voucherID, BookingID: id})
		return err
	})
	if err != nil {
		f.t.Fatalf("book: %v", err)
	}
	return id, sessions
}

// confirm delivers and confirms a session at `at` and posts its voucher share.
func (f *billingFixture) confirm(bookingID string, session int64, at time.Time) {
	f.t.Helper()
	ctx := context.Background()
	err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		var cents int64
		if err := tx.QueryRow(ctx, `UPDATE booking_sessions SET status = 'confirmed', cooperative_id = 'baobab',
			delivered_at = $2, confirmed_at = $2, confirmed_by = 'auto' WHERE id = $1 RETURNING voucher_cents`, session, at).Scan(&cents); err != nil {
			return err
		}
		if err := store.EnsureAccount(ctx, tx, store.CooperativeAccountID("baobab"), "tradate", store.AccountCooperative, false); err != nil {
			return err
		}
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: fmt.Sprintf("post:session:%d", session),
			From: store.BookingVoucherAccountID(bookingID), To: store.CooperativeAccountID("baobab"), Amount: cents,
			Kind: store.TransferPost, BookingID: bookingID})
		return err
	})
	if err != nil {
		f.t.Fatalf("confirm: %v", err)
	}
}

// redeem spends cents of the voucher at the merchant, dated at.
func (f *billingFixture) redeem(cents int64, at time.Time) string {
	f.t.Helper()
	ctx := context.Background()
	r, err := f.st.Redeem(ctx, store.Scope{Kind: "merchant", District: "tradate", Municipality: "tradate"},
		store.RedeemInput{MerchantID: f.merchant, Code: f.code, AmountCents: cents, IdempotencyKey: uuid.NewString(), RequestHash: "h"})
	if err != nil {
		f.t.Fatalf("redeem: %v", err)
	}
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE redemptions SET created_at = $2 WHERE id = $1`, r.ID, at)
		return err
	}); err != nil {
		f.t.Fatalf("date redemption: %v", err)
	}
	return r.ID
}
