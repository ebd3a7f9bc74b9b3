package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
)

// companyPage is /azienda: the welfare manager's company, its plan valid
// today and its spending by month and category (never by employee).
func (s *Site) companyPage(c *gin.Context) error {
	ctx, u := c.Request.Context(), httpx.CurrentUser(c)
	o, err := s.company.Overview(ctx, u)
	if err != nil {
		return err
	}
	spending, err := s.company.Spending(ctx, u)
	if err != nil {
		return err
	}
	cats := make([]string, 0, len(o.Plan.Categories))
	for _, cat := range o.Plan.Categories {
		cats = append(cats, s.t(c, "cat.category."+cat))
	}
	type row struct {
		Month, Category string
		Cents, Bookings int64
	}
	rows := make([]row, 0, len(spending))
	for _, r := range spending {
		rows = append(rows, row{Month: r.Month, Category: s.t(c, "cat.category."+r.Category), Cents: r.SpentCents, Bookings: r.Bookings})
	}
	s.render(c, http.StatusOK, "company", view{Title: s.t(c, "company.title"), Nav: "company",
		Data: map[string]any{"O": o, "Categories": strings.Join(cats, ", "), "Rows": rows}})
	return nil
}
