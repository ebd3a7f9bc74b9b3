package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/marketplace"
)

// Service vouchers (issue 5, part A): the citizen's declared ISEE (JSON
// and the personal area), and the wording of service vouchers on the
// citizen's pages, the till and the funds page. The form itself is
// forms/schemas/buono-servizi; its cases run the same case workflow as food
// vouchers, and the redemption refusal lives in store.Redeem. The ISEE's
// rules are the marketplace service's (internal/app/marketplace).

func (s *server) getISEE(c *gin.Context) error {
	v, err := s.marketplace.ISEE(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// parseISEE reads the isee_euro of a request (marketplace.ParseISEE) as
// the API answers it, a 422 when refused (FuzzParseISEE checks both).
func parseISEE(raw json.RawMessage) (*int, error) {
	euro, err := marketplace.ParseISEE(raw)
	if err != nil {
		return nil, httpx.From(err)
	}
	return euro, nil
}

func (s *server) putISEE(c *gin.Context) error {
	var in marketplace.ISEEInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.marketplace.PutISEE(c.Request.Context(), httpx.CurrentUser(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
