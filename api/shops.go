package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// listShops is the public list of the shops where a food voucher can be
// spent (GET /api/v1/shops?district=&municipality=&kind=).
func (s *server) listShops(c *gin.Context) error {
	shops, err := s.vouchers.Shops(c.Request.Context(), store.ShopFilter{District: c.Query("district"),
		Municipality: c.Query("municipality"), Kind: c.Query("kind")})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": shops})
	return nil
}
