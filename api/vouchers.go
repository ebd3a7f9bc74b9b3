package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/vouchers"
	"sportello/internal/store"
)

// Vouchers, redemptions and funds: the use cases are in
// internal/app/vouchers; these are their JSON adapters.

func (s *server) listVouchers(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := s.vouchers.List(c.Request.Context(), httpx.CurrentUser(c),
		store.VoucherFilter{Status: c.Query("status"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.VoucherView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

// redemptionRequest is the body of POST /api/v1/redemptions.
type redemptionRequest = vouchers.Redemption

func (s *server) redeem(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req redemptionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.vouchers.Redeem(c.Request.Context(), httpx.CurrentUser(c), req, key)
	if err != nil {
		return err
	}
	createdOnce(c, res, res.Replayed)
	return nil
}

func (s *server) listRedemptions(c *gin.Context) error {
	limit, offset, err := page(c)
	if err != nil {
		return err
	}
	items, total, err := s.vouchers.Redemptions(c.Request.Context(), httpx.CurrentUser(c), limit, offset)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, List[store.RedemptionView]{Items: items, Total: total, Limit: limit, Offset: offset})
	return nil
}

func (s *server) listFunds(c *gin.Context) error {
	items, err := s.vouchers.Funds(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
