// Package bookingtest writes marketplace bookings as the citizen's checkout
// does, for the tests of the booking saga (store, e2e): a voucher of
// cittadino.tradate with credit, the booking of Baobab's after-school
// service, its sessions with their fixed shares and the voucher hold, in one
// transaction, the ledger balanced. It needs the demo seed.
package bookingtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
	"sportello/workflows"
)

// Service is the booked service (Baobab's).
const Service = "Doposcuola e aiuto compiti"

// Booking is a booking written as checkout writes it.
type Booking struct {
	ID, VoucherID   string
	CitizenID       int64
	Quantity        int
	UnitPriceCents  int64
	Voucher, Online int64 // the parts of the total
	VoucherCredit   int64 // the voucher's balance before the hold
}

// UnitPrice is the list price of the booked service.
func UnitPrice(ctx context.Context, st *store.Store) (int64, error) {
	var price int64
	err := st.Pool.QueryRow(ctx, `SELECT price_cents FROM services WHERE cooperative_id = 'baobab' AND name = $1`, Service).Scan(&price)
	return price, err
}

// Checkout books quantity units at the list price, voucher cents of the
// total by voucher and the rest online (status awaiting_payment). It does
// not start the workflow.
func Checkout(ctx context.Context, st *store.Store, quantity int, voucher int64) (Booking, error) {
	var (
		fundID, taxCode      string
		serviceID            int64
		name, category, unit string
	)
	b := Booking{ID: uuid.NewString(), Quantity: quantity, Voucher: voucher}
	err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id, tax_code FROM users WHERE username = 'cittadino.tradate'`).Scan(&b.CitizenID, &taxCode); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND form_id = 'buoni-spesa'`).Scan(&fundID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id, price_cents, name, category, unit FROM services WHERE cooperative_id = 'baobab' AND name = $1`,
			Service).Scan(&serviceID, &b.UnitPriceCents, &name, &category, &unit)
	})
	if err != nil {
		return b, err
	}
	total := b.UnitPriceCents * int64(quantity)
	if b.Online = total - voucher; b.Online < 0 || voucher <= 0 {
		return b, fmt.Errorf("voucher part %d: must be positive and at most the total %d", voucher, total)
	}
	// A voucher with credit: an awarded, released case of the citizen.
	caseID := "BS-BOOK-" + strings.ToUpper(b.ID[:8])
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash)
			VALUES ($1, 'tradate', 'tradate', $2, $3, 'buoni-spesa', 1, $4, '{}', 'in_review', 'case:'||$1, 'h')`,
			caseID, b.CitizenID, taxCode, fundID)
		return err
	}); err != nil {
		return b, err
	}
	b.VoucherCredit = voucher + 10_000
	aw, err := st.Award(ctx, store.AwardInput{DecisionInput: store.DecisionInput{TaskID: uuid.Nil.String(), CaseID: caseID,
		Actor: "operatore.tradate", At: time.Now()}, AmountCents: b.VoucherCredit})
	if err != nil {
		return b, err
	}
	if err := st.ReleaseTranche(ctx, store.TrancheInput{CaseID: caseID, VoucherID: aw.VoucherID, AmountCents: b.VoucherCredit,
		At: time.Now()}); err != nil {
		return b, err
	}
	b.VoucherID = aw.VoucherID
	err = st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id,
				service_name, category, unit, quantity, unit_price_cents, total_cents, voucher_id, voucher_cents, online_cents, status, workflow_id)
			VALUES ($1, 'tradate', 'tradate', $2, $3, 'baobab', $4, $5, $6, $7, $8, $9, $10, $11, $12, 'awaiting_payment', $13)`,
			b.ID, b.CitizenID, serviceID, name, category, unit, quantity, b.UnitPriceCents, total, b.VoucherID, voucher, b.Online,
			workflows.BookingWorkflowID(b.ID)); err != nil {
			return err
		}
		for seq := 1; seq <= quantity; seq++ {
			if _, err := tx.Exec(ctx, `INSERT INTO booking_sessions (booking_id, seq, voucher_cents, online_cents) VALUES ($1, $2, $3, $4)`,
				b.ID, seq, Share(voucher, quantity, seq), Share(b.Online, quantity, seq)); err != nil {
				return err
			}
		}
		if err := store.EnsureAccount(ctx, tx, store.BookingVoucherAccountID(b.ID), "tradate", store.AccountBookingVoucher, false); err != nil {
			return err
		}
		_, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "booking:" + b.ID + ":hold", From: store.VoucherAccountID(b.VoucherID),
			To: store.BookingVoucherAccountID(b.ID), Amount: voucher, Kind: store.TransferHold, VoucherID: b.VoucherID, BookingID: b.ID})
		return err
	})
	return b, err
}

// Share is session seq's part of amount over n sessions (the remainder on
// the first).
func Share(amount int64, n, seq int) int64 {
	part := amount / int64(n)
	if seq == 1 {
		part += amount - part*int64(n)
	}
	return part
}
