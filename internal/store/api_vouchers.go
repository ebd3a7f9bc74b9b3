package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// VoucherView is a voucher with its balances.
type VoucherView struct {
	ID             string            `json:"id"`
	Code           string            `json:"code"`
	CaseID         string            `json:"case_id"`
	FundID         string            `json:"fund_id"`
	Municipality   string            `json:"municipality"`
	AmountCents    int64             `json:"amount_cents"`
	AvailableCents int64             `json:"available_cents"`
	PendingCents   int64             `json:"pending_cents"`
	RedeemedCents  int64             `json:"redeemed_cents"`
	Status         string            `json:"status"`
	ExpiresAt      time.Time         `json:"expires_at"`
	CreatedAt      time.Time         `json:"created_at"`
	Kind           string            `json:"kind"`       // its fund's: food (merchants) or service (catalogue)
	Categories     []string          `json:"categories"` // service: the catalogue categories it pays for
	Movements      []VoucherMovement `json:"movements,omitempty"`
}

// VoucherMovement is one ledger transfer touching a voucher, seen from the
// holder's side: its effect on the spendable and on the pending balance.
type VoucherMovement struct {
	At                   time.Time `json:"at"`
	Kind                 string    `json:"kind"`
	AmountCents          int64     `json:"amount_cents"`
	Direction            string    `json:"direction"` // in, out or none, on the spendable balance
	AvailableEffectCents int64     `json:"available_effect_cents"`
	PendingEffectCents   int64     `json:"pending_effect_cents"`
	Merchant             string    `json:"merchant,omitempty"`
}

// VoucherFilter narrows a voucher list.
type VoucherFilter struct {
	Status string
	Limit  int
	Offset int
}

const voucherSelect = `SELECT v.id::text, v.code, v.case_id, v.fund_id, v.municipality_id, v.amount_cents,
		coalesce(av.balance_cents, 0), coalesce(pe.balance_cents, 0),
		coalesce((SELECT sum(t.amount_cents) FROM transfers t
			WHERE t.from_account = 'voucher:' || v.id::text AND t.kind = 'redemption'), 0)::bigint,
		v.status, v.expires_at, v.created_at, f.kind, f.service_categories
	FROM vouchers v
	JOIN funds f ON f.id = v.fund_id
	LEFT JOIN accounts av ON av.id = 'voucher:' || v.id::text
	LEFT JOIN accounts pe ON pe.id = 'voucher:' || v.id::text || ':pending'`

func scanVoucher(row pgx.Row, extra ...any) (VoucherView, error) {
	var v VoucherView
	dest := append([]any{&v.ID, &v.Code, &v.CaseID, &v.FundID, &v.Municipality, &v.AmountCents,
		&v.AvailableCents, &v.PendingCents, &v.RedeemedCents, &v.Status, &v.ExpiresAt, &v.CreatedAt,
		&v.Kind, &v.Categories}, extra...)
	err := row.Scan(dest...)
	return v, err
}

// Vouchers lists the vouchers visible to scope, newest first. Callers must
// not use it for merchants: their scope sees every voucher of the district
// (to redeem by code), not a list they may browse.
func (a API) Vouchers(ctx context.Context, scope Scope, f VoucherFilter) ([]VoucherView, int, error) {
	list := []VoucherView{}
	total := 0
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, voucherSelect+`
			WHERE ($1 = '' OR v.status = $1)
			ORDER BY v.created_at DESC, v.id LIMIT $2 OFFSET $3`, f.Status, f.Limit, f.Offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVoucher(rows)
			if err != nil {
				return err
			}
			list = append(list, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM vouchers v WHERE ($1 = '' OR v.status = $1)`, f.Status).Scan(&total)
	})
	return list, total, MapError(err)
}

// Voucher returns one voucher visible to scope with its movements.
func (a API) Voucher(ctx context.Context, scope Scope, id string) (VoucherView, error) {
	var v VoucherView
	uid, err := uuid.Parse(id)
	if err != nil {
		return v, ErrNotFound
	}
	err = a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		v, err = scanVoucher(tx.QueryRow(ctx, voucherSelect+` WHERE v.id = $1`, uid))
		if err != nil {
			return err
		}
		spendable, pending := VoucherAccountID(v.ID), VoucherPendingAccountID(v.ID)
		rows, err := tx.Query(ctx, `SELECT t.created_at, t.kind, t.amount_cents, t.from_account, t.to_account, coalesce(m.name, '')
			FROM transfers t
			LEFT JOIN redemptions r ON r.transfer_id = t.id
			LEFT JOIN merchants m ON m.id = r.merchant_id
			WHERE t.from_account = ANY($1) OR t.to_account = ANY($1)
			ORDER BY t.created_at, t.id`, []string{spendable, pending})
		if err != nil {
			return err
		}
		defer rows.Close()
		v.Movements = []VoucherMovement{}
		for rows.Next() {
			var (
				m        VoucherMovement
				from, to string
			)
			if err := rows.Scan(&m.At, &m.Kind, &m.AmountCents, &from, &to, &m.Merchant); err != nil {
				return err
			}
			m.AvailableEffectCents = effect(spendable, from, to, m.AmountCents)
			m.PendingEffectCents = effect(pending, from, to, m.AmountCents)
			switch {
			case m.AvailableEffectCents > 0:
				m.Direction = "in"
			case m.AvailableEffectCents < 0:
				m.Direction = "out"
			default:
				m.Direction = "none"
			}
			v.Movements = append(v.Movements, m)
		}
		return rows.Err()
	})
	return v, MapError(err)
}

func effect(account, from, to string, amount int64) int64 {
	var e int64
	if to == account {
		e += amount
	}
	if from == account {
		e -= amount
	}
	return e
}

// RedemptionView is one redemption in a merchant's history: never the
// holder's identity, only the last characters of the voucher code.
type RedemptionView struct {
	ID                string    `json:"id"`
	AmountCents       int64     `json:"amount_cents"`
	RemainingCents    int64     `json:"remaining_cents"`
	VoucherCodeSuffix string    `json:"voucher_code_suffix"`
	CreatedAt         time.Time `json:"created_at"`
}

// Redemptions lists a merchant's redemptions, newest first.
func (a API) Redemptions(ctx context.Context, scope Scope, merchantID string, limit, offset int) ([]RedemptionView, int, error) {
	list := []RedemptionView{}
	total := 0
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT r.id::text, r.amount_cents, r.remaining_cents, right(v.code, 4), r.created_at
			FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
			WHERE r.merchant_id = $1
			ORDER BY r.created_at DESC, r.id LIMIT $2 OFFSET $3`, merchantID, limit, offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r RedemptionView
			if err := rows.Scan(&r.ID, &r.AmountCents, &r.RemainingCents, &r.VoucherCodeSuffix, &r.CreatedAt); err != nil {
				return err
			}
			list = append(list, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM redemptions WHERE merchant_id = $1`, merchantID).Scan(&total)
	})
	return list, total, MapError(err)
}

// FundView is a fund with its ledger totals.
type FundView struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	Form               string    `json:"form"`
	Kind               string    `json:"kind"`
	Categories         []string  `json:"categories"`
	Municipality       string    `json:"municipality"`
	MunicipalityName   string    `json:"municipality_name"`
	OpensAt            time.Time `json:"opens_at"`
	ClosesAt           time.Time `json:"closes_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	IseeThresholdCents int64     `json:"isee_threshold_cents"`
	BudgetCents        int64     `json:"budget_cents"`
	AwardedCents       int64     `json:"awarded_cents"`
	ReleasedCents      int64     `json:"released_cents"`
	RedeemedCents      int64     `json:"redeemed_cents"`
	ReturnedCents      int64     `json:"returned_cents"`
	BookedCents        int64     `json:"booked_cents"` // service vouchers spent on bookings: holds less voids
	AvailableCents     int64     `json:"available_cents"`
}

// Funds lists the funds visible to scope; municipality narrows it ("" = all).
func (a API) Funds(ctx context.Context, scope Scope, municipality string) ([]FundView, error) {
	list := []FundView{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.id, f.name, f.form_id, f.kind, f.service_categories, f.municipality_id, mu.name,
				f.opens_at, f.closes_at, f.expires_at, f.isee_threshold_cents,
				coalesce((SELECT sum(amount_cents) FROM transfers WHERE to_account = 'fund:' || f.id AND kind = 'funding'), 0)::bigint,
				coalesce((SELECT sum(amount_cents) FROM transfers WHERE from_account = 'fund:' || f.id AND kind = 'award'), 0)::bigint,
				coalesce((SELECT sum(amount_cents) FROM transfers WHERE fund_id = f.id AND kind = 'release'), 0)::bigint,
				coalesce((SELECT sum(amount_cents) FROM transfers WHERE fund_id = f.id AND kind = 'redemption'), 0)::bigint,
				coalesce((SELECT sum(amount_cents) FROM transfers WHERE fund_id = f.id AND kind = 'expiry'), 0)::bigint,
				coalesce((SELECT sum(CASE t.kind WHEN 'hold' THEN t.amount_cents ELSE -t.amount_cents END)
					FROM vouchers v JOIN transfers t ON t.voucher_id = v.id AND t.kind IN ('hold', 'void')
					WHERE f.kind = 'service' AND v.fund_id = f.id), 0)::bigint,
				coalesce((SELECT balance_cents FROM accounts WHERE id = 'fund:' || f.id), 0)
			FROM funds f JOIN municipalities mu ON mu.id = f.municipality_id
			WHERE ($1 = '' OR f.municipality_id = $1)
			ORDER BY f.opens_at DESC, f.id`, municipality)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f FundView
			if err := rows.Scan(&f.ID, &f.Name, &f.Form, &f.Kind, &f.Categories, &f.Municipality, &f.MunicipalityName,
				&f.OpensAt, &f.ClosesAt, &f.ExpiresAt, &f.IseeThresholdCents,
				&f.BudgetCents, &f.AwardedCents, &f.ReleasedCents, &f.RedeemedCents, &f.ReturnedCents, &f.BookedCents,
				&f.AvailableCents); err != nil {
				return err
			}
			list = append(list, f)
		}
		return rows.Err()
	})
	return list, MapError(err)
}
