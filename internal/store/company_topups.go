package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// A company's top-ups: asked for by its welfare manager (pending), paid
// through the payment provider, and booked in the ledger (the district's
// company payments -> company, transfer kind topup) only once the provider
// has confirmed the captured amount (ConfirmTopUp, system scope).

// CompanyPaymentsAccountID is the external source of the companies' top-ups
// of a district through the payment provider: kept apart from the
// citizens' payments (PaymentsAccountID), so that each reconciles alone.
func CompanyPaymentsAccountID(district string) string { return "payments:" + district + ":companies" }

// Top-up statuses.
const (
	TopUpPending = "pending"
	TopUpPaid    = "paid"
	TopUpFailed  = "failed"
)

// TopUp is one top-up of a company's account.
type TopUp struct {
	ID          string     `json:"id"`
	CompanyID   string     `json:"company_id"`
	District    string     `json:"-"`
	AmountCents int64      `json:"amount_cents"`
	Status      string     `json:"status"`
	PaymentID   string     `json:"-"`
	PaymentURL  string     `json:"payment_url,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
}

const topUpColumns = `id::text, company_id, district_id, amount_cents, status, coalesce(payment_id, ''), coalesce(payment_url, ''), created_at, paid_at`

func scanTopUp(row pgx.Row) (TopUp, error) {
	var t TopUp
	err := row.Scan(&t.ID, &t.CompanyID, &t.District, &t.AmountCents, &t.Status, &t.PaymentID, &t.PaymentURL, &t.CreatedAt, &t.PaidAt)
	return t, err
}

// CreateTopUp records a pending top-up id of amount for the acting welfare
// manager's company.
func (a API) CreateTopUp(ctx context.Context, scope Scope, id string, amount int64) (TopUp, error) {
	var t TopUp
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		c, err := myCompany(ctx, tx)
		if err != nil {
			return err
		}
		t, err = scanTopUp(tx.QueryRow(ctx, `INSERT INTO company_topups (id, company_id, district_id, amount_cents, status, requested_by)
			VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING `+topUpColumns, id, c.ID, c.District, amount, scope.UserID))
		return err
	})
	return t, MapError(err)
}

// SetTopUpPayment records the provider's payment of a pending top-up.
func (a API) SetTopUpPayment(ctx context.Context, id, paymentID, paymentURL string) (TopUp, error) {
	var t TopUp
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		t, err = scanTopUp(tx.QueryRow(ctx, `UPDATE company_topups SET payment_id = $2, payment_url = $3
			WHERE id = $1 AND status = 'pending' RETURNING `+topUpColumns, id, paymentID, paymentURL))
		return err
	})
	return t, MapError(err)
}

// TopUp reads top-up id as scope sees it.
func (a API) TopUp(ctx context.Context, scope Scope, id string) (TopUp, error) {
	var t TopUp
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		t, err = scanTopUp(tx.QueryRow(ctx, `SELECT `+topUpColumns+` FROM company_topups WHERE id = $1`, id))
		return err
	})
	return t, MapError(err)
}

// TopUps lists the acting welfare manager's company's top-ups, newest first.
func (a API) TopUps(ctx context.Context, scope Scope) ([]TopUp, error) {
	return listAs(ctx, a.s, scope, scanTopUp, `SELECT `+topUpColumns+` FROM company_topups
		WHERE company_id = sportello_company() ORDER BY created_at DESC, id LIMIT 100`)
}

// ErrTopUpAmount: the provider confirmed another amount than the top-up's.
var ErrTopUpAmount = Conflict("topup_amount_mismatch", "the provider confirmed another amount than the top-up's")

// ConfirmTopUp books top-up id once the provider has confirmed that
// capturedCents were paid on paymentID: the money moves from the
// district's payments account to the company's, exactly once (the
// transfer's key is the top-up's). A paid top-up is returned as it is.
func (a API) ConfirmTopUp(ctx context.Context, id, paymentID string, capturedCents int64) (TopUp, error) {
	var t TopUp
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		if t, err = scanTopUp(tx.QueryRow(ctx, `SELECT `+topUpColumns+` FROM company_topups WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		if t.Status == TopUpPaid {
			return nil
		}
		if t.PaymentID != paymentID || t.AmountCents != capturedCents {
			return ErrTopUpAmount
		}
		if err := EnsureAccount(ctx, tx, CompanyPaymentsAccountID(t.District), t.District, AccountPayments, true); err != nil {
			return err
		}
		tid, _, err := Transfer(ctx, tx, TransferInput{Key: "topup:" + t.ID, From: CompanyPaymentsAccountID(t.District),
			To: CompanyAccountID(t.CompanyID), Amount: t.AmountCents, Kind: TransferTopUp})
		if err != nil {
			return err
		}
		t, err = scanTopUp(tx.QueryRow(ctx, `UPDATE company_topups SET status = 'paid', transfer_id = $2, paid_at = now()
			WHERE id = $1 RETURNING `+topUpColumns, id, tid))
		return err
	})
	return t, MapError(err)
}

// FailTopUp marks a pending top-up failed (the provider canceled its payment).
func (a API) FailTopUp(ctx context.Context, id string) (TopUp, error) {
	var t TopUp
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		t, err = scanTopUp(tx.QueryRow(ctx, `UPDATE company_topups SET status = 'failed'
			WHERE id = $1 AND status = 'pending' RETURNING `+topUpColumns, id))
		if err == pgx.ErrNoRows {
			t, err = scanTopUp(tx.QueryRow(ctx, `SELECT `+topUpColumns+` FROM company_topups WHERE id = $1`, id))
		}
		return err
	})
	return t, MapError(err)
}

// SpendingRow is what a company's employees spent in one month on one
// service category, net of refunds: a sum and a count, never a person.
type SpendingRow struct {
	Month      string `json:"month"` // YYYY-MM
	Category   string `json:"category"`
	SpentCents int64  `json:"spent_cents"`
	Bookings   int64  `json:"bookings"`
	// Employees is how many distinct employees the cell sums: it decides
	// whether the cell may be shown (company.Suppress), never shown itself.
	Employees int64 `json:"employees"`
}

// CompanySpending is the acting welfare manager's company's spending by
// month and category (company_spending()).
func (a API) CompanySpending(ctx context.Context, scope Scope) ([]SpendingRow, error) {
	return listAs(ctx, a.s, scope, func(row pgx.Row) (SpendingRow, error) {
		var r SpendingRow
		err := row.Scan(&r.Month, &r.Category, &r.SpentCents, &r.Bookings, &r.Employees)
		return r, err
	}, `SELECT to_char(month, 'YYYY-MM'), category, spent_cents, bookings, employees FROM company_spending()`)
}
