package api

import (
	"context"
	"errors"
	"net/http"
	"sportello/internal/app/casework"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

func (s *server) listVouchers(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	f := store.VoucherFilter{Status: c.Query("status"), Limit: limit, Offset: offset}
	if f.Status != "" && f.Status != "active" && f.Status != "expired" {
		return invalid(param("status", "invalid", "status must be active or expired", "status deve essere active o expired"))
	}
	items, total, err := s.api.Vouchers(c.Request.Context(), currentUser(c).Scope(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.VoucherView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) getVoucher(c *gin.Context) error {
	v, err := s.api.Voucher(c.Request.Context(), currentUser(c).Scope(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("voucher")
	}
	if err != nil {
		return err
	}
	if err := s.auditRead(c.Request.Context(), currentUser(c), store.AuditReadVoucher, v.CaseID, v.Municipality,
		map[string]string{"voucher_id": v.ID}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

type redemptionRequest struct {
	Code        string `json:"code"`
	AmountCents *int64 `json:"amount_cents"`
}

func (s *server) redeem(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req redemptionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.redeemVoucher(c.Request.Context(), currentUser(c), req, key)
	if err != nil {
		return err
	}
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, res)
	return nil
}

// redeemVoucher spends part of a voucher at the merchant user works for.
// Field problems are a 422 with pointers /code and /amount_cents; an unknown
// code is a 404 "voucher_not_found"; a voucher that cannot pay is a 409
// (insufficient_balance, voucher_expired, not_released). key, when not
// empty, makes a retried request apply once (res.Replayed).
func (s *server) redeemVoucher(ctx context.Context, user store.UserView, req redemptionRequest, key string) (store.RedeemResult, error) {
	code := store.NormalizeVoucherCode(req.Code)
	var fields []FieldError
	switch {
	case strings.TrimSpace(req.Code) == "" || code == "":
		fields = append(fields, field("/code", "required", "the voucher code is required", "il codice del buono è obbligatorio"))
	case len(code) > 64:
		fields = append(fields, field("/code", "too_long", "the voucher code is too long", "il codice del buono è troppo lungo"))
	}
	switch {
	case req.AmountCents == nil:
		fields = append(fields, field("/amount_cents", "required", "amount_cents is required", "amount_cents è obbligatorio"))
	case *req.AmountCents <= 0:
		fields = append(fields, field("/amount_cents", "minimum", "amount_cents must be greater than zero",
			"amount_cents deve essere maggiore di zero"))
	case *req.AmountCents > casework.MaxAmountCents:
		fields = append(fields, field("/amount_cents", "maximum", "amount_cents is too large", "amount_cents è troppo grande"))
	}
	if len(fields) > 0 {
		return store.RedeemResult{}, invalid(fields...)
	}
	hash, err := requestHash(map[string]any{"code": code, "amount_cents": *req.AmountCents})
	if err != nil {
		return store.RedeemResult{}, err
	}
	// The trail names the merchant and the amount, never the voucher or its case.
	var res store.RedeemResult
	err = s.audited(ctx, user, store.AuditEntry{Action: store.AuditRedeem,
		Detail: auditDetail(map[string]any{"merchant_id": user.MerchantID, "amount_cents": *req.AmountCents})}, func() error {
		var err error
		res, err = s.Store.Redeem(ctx, user.Scope(), store.RedeemInput{
			MerchantID:     user.MerchantID,
			Code:           code,
			AmountCents:    *req.AmountCents,
			IdempotencyKey: key,
			RequestHash:    hash,
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return res, newError(http.StatusNotFound, "voucher_not_found", "no voucher has this code")
	}
	return res, err
}

func (s *server) listRedemptions(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	user := currentUser(c)
	items, total, err := s.api.Redemptions(c.Request.Context(), user.Scope(), user.MerchantID, limit, offset)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.RedemptionView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) listFunds(c *gin.Context) error {
	items, err := s.funds(c.Request.Context(), currentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// funds lists the funds user may see: an operator's own municipality, a
// supervisor's whole district.
func (s *server) funds(ctx context.Context, user store.UserView) ([]store.FundView, error) {
	municipality := ""
	if user.Role == "operator" {
		municipality = user.Municipality
	}
	return s.api.Funds(ctx, user.Scope(), municipality)
}
