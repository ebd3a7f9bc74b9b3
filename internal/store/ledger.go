package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Account kinds and ids. Every movement of money is one transfer between two
// of these; the funding account of a district is the only one allowed to go
// negative (it stands for the municipal budgets paid into the platform), so
// the sum of all balances is always zero.
const (
	AccountFunding        = "funding"
	AccountFund           = "fund"
	AccountVoucherPending = "voucher_pending"
	AccountVoucher        = "voucher"
	AccountMerchant       = "merchant"
	// Marketplace accounts (migration 010).
	AccountBookingVoucher    = "booking_voucher"    // a booking's voucher part, held until delivery
	AccountBookingOnline     = "booking_online"     // a booking's online payment, held until delivery
	AccountBookingCompany    = "booking_company"    // a booking's company-credit part, held until delivery (migration 033)
	AccountPayments          = "payments"           // external: citizens' money through the payment provider
	AccountCooperative       = "cooperative"        // owed to a cooperative for voucher-funded delivered sessions
	AccountCooperativeOnline = "cooperative_online" // earned by a cooperative from online payments
	AccountPayout            = "payout"             // what the district has paid out to cooperatives and merchants
)

// Transfer kinds.
const (
	TransferFunding    = "funding"
	TransferAward      = "award"
	TransferRelease    = "release"
	TransferRedemption = "redemption"
	TransferExpiry     = "expiry"
	TransferHold       = "hold"    // voucher -> booking voucher part, at checkout
	TransferVoid       = "void"    // booking voucher part -> voucher, on cancellation
	TransferPayment    = "payment" // payments -> booking online part, when the provider confirms
	TransferPost       = "post"    // booking voucher part -> cooperative, per confirmed session
	TransferSettle     = "settle"  // booking online part -> cooperative online, per confirmed session
	TransferRefund     = "refund"  // booking online part -> payments, on cancellation
	TransferPayout     = "payout"  // cooperative or merchant -> payout, when an invoice is paid
)

// FundingAccountID is the external source of a district's budgets.
func FundingAccountID(district string) string { return "funding:" + district }

// FundAccountID holds a fund's unawarded budget.
func FundAccountID(fundID string) string { return "fund:" + fundID }

// VoucherPendingAccountID holds awarded tranches not yet released.
func VoucherPendingAccountID(voucherID string) string { return "voucher:" + voucherID + ":pending" }

// VoucherAccountID holds a voucher's spendable balance.
func VoucherAccountID(voucherID string) string { return "voucher:" + voucherID }

// MerchantAccountID holds what the district owes a merchant for redemptions.
func MerchantAccountID(merchantID string) string { return "merchant:" + merchantID }

// BookingVoucherAccountID holds the voucher part of a booking until delivery.
func BookingVoucherAccountID(bookingID string) string { return "booking:" + bookingID + ":voucher" }

// BookingOnlineAccountID holds the online part of a booking until delivery.
func BookingOnlineAccountID(bookingID string) string { return "booking:" + bookingID + ":online" }

// BookingCompanyAccountID holds the company-credit part of a booking until delivery.
func BookingCompanyAccountID(bookingID string) string { return "booking:" + bookingID + ":company" }

// PaymentsAccountID is the external source of a district's online payments
// (it goes negative by what citizens have paid and not been refunded).
func PaymentsAccountID(district string) string { return "payments:" + district }

// CooperativeAccountID holds what the district owes a cooperative for
// delivered voucher-funded sessions, until the invoice is paid.
func CooperativeAccountID(cooperativeID string) string { return "cooperative:" + cooperativeID }

// CooperativeOnlineAccountID holds what a cooperative earned from online payments.
func CooperativeOnlineAccountID(cooperativeID string) string {
	return "cooperative:" + cooperativeID + ":online"
}

// PayoutAccountID holds what a district has paid out on invoices and reimbursements.
func PayoutAccountID(district string) string { return "payout:" + district }

// EnsureAccount creates an account if it does not exist.
func EnsureAccount(ctx context.Context, tx pgx.Tx, id, district, kind string, allowNegative bool) error {
	_, err := tx.Exec(ctx, `INSERT INTO accounts (id, district_id, kind, allow_negative)
		VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, id, district, kind, allowNegative)
	return MapError(err)
}

// TransferInput is one movement between two accounts.
type TransferInput struct {
	Key       string // idempotency key: the same key is applied once
	From, To  string
	Amount    int64
	Kind      string
	FundID    string
	VoucherID string
	BookingID string
}

// ErrInsufficient is returned when the debited account cannot cover a transfer.
var ErrInsufficient = Conflict("insufficient_funds", "the account balance cannot cover the amount")

// Transfer applies in exactly once, inside tx. It returns the transfer id and
// whether this call created it (false: it had already been applied). A
// replayed key with different accounts or amount is a conflict.
func Transfer(ctx context.Context, tx pgx.Tx, in TransferInput) (int64, bool, error) {
	if in.Amount <= 0 {
		return 0, false, fmt.Errorf("transfer %s: amount must be positive, got %d", in.Key, in.Amount)
	}
	var (
		id                 int64
		from, to           string
		amount             int64
		fundID, voucherArg any
		bookingArg         any
	)
	if in.FundID != "" {
		fundID = in.FundID
	}
	if in.VoucherID != "" {
		voucherArg = in.VoucherID
	}
	if in.BookingID != "" {
		bookingArg = in.BookingID
	}
	// Lock both accounts in a fixed order so opposite transfers cannot deadlock.
	rows, err := tx.Query(ctx, `SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []string{in.From, in.To})
	if err != nil {
		return 0, false, MapError(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, MapError(err)
	}
	if n != 2 {
		return 0, false, fmt.Errorf("transfer %s: unknown account %s or %s", in.Key, in.From, in.To)
	}
	err = tx.QueryRow(ctx, `INSERT INTO transfers (idempotency_key, from_account, to_account, amount_cents, kind, fund_id, voucher_id, booking_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		in.Key, in.From, in.To, in.Amount, in.Kind, fundID, voucherArg, bookingArg).Scan(&id)
	if err == pgx.ErrNoRows {
		if err := tx.QueryRow(ctx, `SELECT id, from_account, to_account, amount_cents FROM transfers WHERE idempotency_key = $1`,
			in.Key).Scan(&id, &from, &to, &amount); err != nil {
			return 0, false, MapError(err)
		}
		if from != in.From || to != in.To || amount != in.Amount {
			return 0, false, Conflict("idempotency_key_reused", "transfer "+in.Key+" was already applied with other terms")
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, MapError(err)
	}
	tag, err := tx.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents - $2
		WHERE id = $1 AND (allow_negative OR balance_cents >= $2)`, in.From, in.Amount)
	if err != nil {
		return 0, false, MapError(err)
	}
	if tag.RowsAffected() != 1 {
		return 0, false, ErrInsufficient
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents + $2 WHERE id = $1`, in.To, in.Amount); err != nil {
		return 0, false, MapError(err)
	}
	return id, true, nil
}

// Balance reads an account balance (0 for an account that does not exist).
func Balance(ctx context.Context, q Querier, id string) (int64, error) {
	var b int64
	err := q.QueryRow(ctx, `SELECT balance_cents FROM accounts WHERE id = $1`, id).Scan(&b)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	return b, MapError(err)
}

// Querier is satisfied by pgx.Tx, *pgx.Conn and *pgxpool.Pool.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// LedgerCheck runs every ledger invariant (VerifyLedger, with the default
// grace period for refunds under way) and describes the first violation, or
// returns "" when the books balance.
func LedgerCheck(ctx context.Context, q Querier) (string, error) {
	r, err := VerifyLedger(ctx, q, VerifyOptions{Grace: DefaultVerifyGrace})
	if err != nil {
		return "", err
	}
	return r.FirstProblem(), nil
}
