// Package vouchers is the money side of an approved case: the vouchers a
// citizen holds (list, one voucher, the voucher page), their redemption at
// a merchant's till and the merchant's redemptions, and the funds the
// vouchers are paid from (staff: an operator's municipality, a supervisor's
// district).
//
// Each use case is here once: the rule, the store calls, the audit. The
// JSON API (api/vouchers.go) and the pages (the till, api/web/staff_till.go;
// the citizen's voucher page, api/web/citizen.go) only decode their input
// and show the result.
package vouchers

import (
	"context"
	"errors"
	"strings"

	"sportello/internal/app"
	"sportello/internal/app/casework"
	"sportello/internal/contract"
	"sportello/internal/jsonx"
	"sportello/internal/observe"
	"sportello/internal/store"
)

// Service does the voucher use cases.
type Service struct{ *app.Core }

// New returns the voucher service on core.
func New(core *app.Core) Service { return Service{core} }

// List lists the vouchers user sees (a citizen: their own).
func (s Service) List(ctx context.Context, user store.UserView, f store.VoucherFilter) ([]store.VoucherView, int, error) {
	if f.Status != "" && f.Status != "active" && f.Status != "expired" {
		return nil, 0, app.InvalidInput(app.Param("status", "invalid", "vouchers.err.status_unknown"))
	}
	return s.API.Vouchers(ctx, user.Scope(), f)
}

// Voucher reads a voucher user sees (NotFound "voucher not found"
// otherwise); a staff read is audited.
func (s Service) Voucher(ctx context.Context, user store.UserView, id string) (store.VoucherView, error) {
	v, err := s.Own(ctx, user, id)
	if err != nil {
		return v, err
	}
	if err := s.AuditRead(ctx, user, store.AuditReadVoucher, v.CaseID, v.Municipality,
		map[string]string{"voucher_id": v.ID}); err != nil {
		return v, err
	}
	return v, nil
}

// Own reads a voucher under user's scope, unaudited: for a citizen's own
// vouchers (their scope sees only those).
func (s Service) Own(ctx context.Context, user store.UserView, id string) (store.VoucherView, error) {
	v, err := s.API.Voucher(ctx, user.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return v, app.Missing("voucher")
	}
	return v, err
}

// FundNames gives the public name of voucher v's fund and of its
// municipality (ok false when the fund is not found). Fund names are
// public: they are read under the system scope, once the caller's own
// scope has shown the voucher.
func (s Service) FundNames(ctx context.Context, v store.VoucherView) (fund, municipality string, ok bool) {
	funds, err := s.API.Funds(ctx, store.System, v.Municipality)
	if err != nil {
		return "", "", false
	}
	for _, f := range funds {
		if f.ID == v.FundID {
			fund, municipality, ok = f.Name, f.MunicipalityName, true
		}
	}
	return fund, municipality, ok
}

// Redemption is a merchant's spending of part of a voucher.
type Redemption struct {
	Code        string `json:"code"`
	AmountCents *int64 `json:"amount_cents"`
}

// Validate checks the redemption (pointers /code, /amount_cents).
func (r Redemption) Validate() []app.FieldError {
	code := store.NormalizeVoucherCode(r.Code)
	var fields []app.FieldError
	switch {
	case strings.TrimSpace(r.Code) == "" || code == "":
		fields = append(fields, app.Field("/code", "required", "vouchers.err.code_required"))
	case len(code) > 64:
		fields = append(fields, app.Field("/code", "too_long", "vouchers.err.too_long"))
	}
	switch {
	case r.AmountCents == nil:
		fields = append(fields, app.Field("/amount_cents", "required", "vouchers.err.amount_cents_required"))
	case *r.AmountCents <= 0:
		fields = append(fields, app.Field("/amount_cents", "minimum", "vouchers.err.amount_not_positive"))
	case *r.AmountCents > casework.MaxAmountCents:
		fields = append(fields, app.Field("/amount_cents", "maximum", "vouchers.err.amount_too_large"))
	}
	return fields
}

// ErrNoSuchCode is the answer to a code no voucher has.
var ErrNoSuchCode = app.Refuse(app.NotFound, "voucher_not_found", "no voucher has this code")

// Redeem spends part of a voucher at the merchant user works for. Field
// problems are Invalid with pointers /code and /amount_cents; an unknown
// code is NotFound "voucher_not_found"; a voucher that cannot pay is a
// Conflict (insufficient_balance, voucher_expired, not_released, and
// shop_category_not_accepted at a shop that is not of FoodVoucherCategories). key, when
// not empty, makes a retried request apply once (res.Replayed).
func (s Service) Redeem(ctx context.Context, user store.UserView, r Redemption, key string) (store.RedeemResult, error) {
	if fields := r.Validate(); len(fields) > 0 {
		return store.RedeemResult{}, app.InvalidInput(fields...)
	}
	code := store.NormalizeVoucherCode(r.Code)
	hash, err := jsonx.RequestHash(map[string]any{"code": code, "amount_cents": *r.AmountCents})
	if err != nil {
		return store.RedeemResult{}, err
	}
	// The trail names the merchant and the amount, never the voucher or its case.
	var res store.RedeemResult
	err = s.Audited(ctx, user, store.AuditEntry{Action: store.AuditRedeem,
		Detail: app.AuditDetail(map[string]any{"merchant_id": user.MerchantID, "amount_cents": *r.AmountCents})}, func() error {
		var err error
		res, err = s.Store.Redeem(ctx, user.Scope(), store.RedeemInput{
			MerchantID:     user.MerchantID,
			Code:           code,
			AmountCents:    *r.AmountCents,
			IdempotencyKey: key,
			RequestHash:    hash,
			ShopCategories: FoodVoucherCategories, // a service voucher is refused at any shop (store.Redeem)
		})
		if err == nil && !res.Replayed {
			observe.Redemptions.Inc()
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		e := *ErrNoSuchCode
		e.Cause = err
		return res, &e
	}
	return res, err
}

// Redemptions lists the redemptions of the merchant user works for, newest
// first.
func (s Service) Redemptions(ctx context.Context, user store.UserView, limit, offset int) ([]store.RedemptionView, int, error) {
	return s.API.Redemptions(ctx, user.Scope(), user.MerchantID, limit, offset)
}

// Funds lists the funds user may see: an operator's own municipality, a
// supervisor's whole district.
func (s Service) Funds(ctx context.Context, user store.UserView) ([]store.FundView, error) {
	municipality := ""
	if user.Role == string(contract.RoleOperator) {
		municipality = user.Municipality
	}
	return s.API.Funds(ctx, user.Scope(), municipality)
}
