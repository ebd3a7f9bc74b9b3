package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// registerCitizenPages adds the citizen's pages: the application flow, the
// personal area, the case and voucher pages.
func (s *server) registerCitizenPages(p *pageRouter) {
	cz := p.Role(roleCitizen)
	cz.GET("/me", s.page(s.mePage))
}

// meData is the personal area's data.
type meData struct {
	Cases    []store.CaseSummary
	Vouchers []store.VoucherView
}

func (s *server) mePage(c *gin.Context) error {
	ctx := c.Request.Context()
	scope := currentUser(c).Scope()
	cases, _, err := s.api.Cases(ctx, scope, store.CaseFilter{Limit: 200})
	if err != nil {
		return err
	}
	vouchers, _, err := s.api.Vouchers(ctx, scope, store.VoucherFilter{Limit: 200})
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "me", view{Title: s.t(c, "me.title"), Nav: "me", Data: meData{Cases: cases, Vouchers: vouchers}})
	return nil
}

// citizenCasePage is /cases/:id for the citizen who filed the case.
func (s *server) citizenCasePage(c *gin.Context) error {
	return notFound("case")
}
