package store

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RedeemInput is a merchant spending part of a voucher.
type RedeemInput struct {
	MerchantID     string
	Code           string // normalised voucher code
	AmountCents    int64
	IdempotencyKey string // optional; a retried request with the same key is applied once
	RequestHash    string // hash of the request body, to refuse a reused key with another body
	// ShopCategories are the merchant categories where the voucher may be
	// spent (the domain's rule, internal/app/vouchers); a merchant of
	// another category is refused (conflict ErrCodeShopCategory). Nil
	// checks nothing.
	ShopCategories []string
}

// ErrCodeShopCategory refuses a voucher at a merchant whose category it
// does not pay at (a food voucher at a bookshop).
const ErrCodeShopCategory = "shop_category_not_accepted"

// RedeemResult is what the merchant sees: never the holder's identity.
type RedeemResult struct {
	ID             string    `json:"id"`
	AmountCents    int64     `json:"amount_cents"`
	RemainingCents int64     `json:"remaining_cents"`
	Replayed       bool      `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// Redeem spends AmountCents of the voucher with Code at the merchant, in one
// transaction: the voucher row is locked, so concurrent redemptions of one
// voucher are serialised and can never overspend it.
func (s *Store) Redeem(ctx context.Context, scope Scope, in RedeemInput) (RedeemResult, error) {
	var res RedeemResult
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if in.IdempotencyKey != "" {
			// Serialise requests that share a key, then look for an earlier result.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
				"redemption:"+in.MerchantID+":"+in.IdempotencyKey); err != nil {
				return err
			}
			var hash string
			err := tx.QueryRow(ctx, `SELECT id::text, amount_cents, remaining_cents, created_at, request_hash
				FROM redemptions WHERE merchant_id = $1 AND idempotency_key = $2`, in.MerchantID, in.IdempotencyKey).
				Scan(&res.ID, &res.AmountCents, &res.RemainingCents, &res.CreatedAt, &hash)
			if err == nil {
				if hash != in.RequestHash {
					return Conflict("idempotency_key_reused", "this Idempotency-Key was already used for a different redemption")
				}
				res.Replayed = true
				return nil
			}
			if err != pgx.ErrNoRows {
				return err
			}
		}
		var (
			voucherID, fundID, status, kind, categories string
			expiresAt                                   time.Time
		)
		err := tx.QueryRow(ctx, `SELECT v.id::text, v.fund_id, v.status, v.expires_at, f.kind, array_to_string(f.service_categories, ', ')
			FROM vouchers v JOIN funds f ON f.id = v.fund_id WHERE v.code = $1 FOR UPDATE OF v`, NormalizeVoucherCode(in.Code)).
			Scan(&voucherID, &fundID, &status, &expiresAt, &kind, &categories)
		if err != nil {
			return err
		}
		if kind == FundKindService {
			return Conflict(ErrCodeServiceVoucher, "this is a service voucher: it pays only for services of the catalogue ("+
				categories+"), not at shops")
		}
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
			return err
		}
		if status != "active" || !now.Before(expiresAt) {
			return Conflict("voucher_expired", "the voucher has expired")
		}
		available, err := Balance(ctx, tx, VoucherAccountID(voucherID))
		if err != nil {
			return err
		}
		if available < in.AmountCents {
			pending, err := Balance(ctx, tx, VoucherPendingAccountID(voucherID))
			if err != nil {
				return err
			}
			if available == 0 && pending > 0 {
				return Conflict("not_released", "the voucher has no released balance yet; the next tranche is still pending")
			}
			return Conflict("insufficient_balance", "the voucher balance is lower than the amount")
		}
		var district, category string
		if err := tx.QueryRow(ctx, `SELECT district_id, category FROM merchants WHERE id = $1`, in.MerchantID).Scan(&district, &category); err != nil {
			return err
		}
		if in.ShopCategories != nil && !slices.Contains(in.ShopCategories, category) {
			return Conflict(ErrCodeShopCategory, "this voucher is not accepted at a shop of the category "+category)
		}
		if err := EnsureAccount(ctx, tx, MerchantAccountID(in.MerchantID), district, AccountMerchant, false); err != nil {
			return err
		}
		id := uuid.New()
		transferID, _, err := Transfer(ctx, tx, TransferInput{
			Key:       "redemption:" + id.String(),
			From:      VoucherAccountID(voucherID),
			To:        MerchantAccountID(in.MerchantID),
			Amount:    in.AmountCents,
			Kind:      TransferRedemption,
			FundID:    fundID,
			VoucherID: voucherID,
		})
		if err != nil {
			return err
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		res = RedeemResult{ID: id.String(), AmountCents: in.AmountCents, RemainingCents: available - in.AmountCents}
		return tx.QueryRow(ctx, `INSERT INTO redemptions (id, voucher_id, merchant_id, amount_cents, idempotency_key, request_hash, remaining_cents, transfer_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at`,
			id, voucherID, in.MerchantID, in.AmountCents, key, in.RequestHash, res.RemainingCents, transferID).Scan(&res.CreatedAt)
	})
	if err != nil {
		return RedeemResult{}, MapError(err)
	}
	return res, nil
}
