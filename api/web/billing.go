package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/invoices"
	"sportello/internal/store"
)

// The billing pages (issue 5): "Fatture" for cooperatives (their invoices
// to the municipalities), "Rimborsi" for merchants (their monthly claims,
// where they sign the self-declaration), and both for supervisors of the
// district, each with its lines, status and PDF.

type invoiceRow struct {
	ID, Kind, Payee, Municipality, Period, Status string
	Number, TotalCents                            int64
	Lines                                         int
}

type invoicesData struct {
	Rows       []invoiceRow
	Supervisor bool
	Total      int
}

// monthLabel turns "2026-10" into "ottobre 2026" / "October 2026".
func monthLabel(lang, period string) string {
	t, err := time.Parse("2006-01", period)
	if err != nil {
		return period
	}
	if lang == langEN {
		return t.Format("January 2006")
	}
	months := []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
		"settembre", "ottobre", "novembre", "dicembre"}
	return months[t.Month()-1] + " " + t.Format("2006")
}

func invoicesTitle(role string) string {
	switch role {
	case roleMerchant:
		return "inv.title.merchant"
	case roleCooperative:
		return "inv.title.cooperative"
	}
	return "inv.title.supervisor"
}

func (s *Site) invoicesPage(c *gin.Context) error {
	u := httpx.CurrentUser(c)
	items, total, err := s.invoices.List(c.Request.Context(), u, store.InvoiceFilter{Limit: 100})
	if err != nil {
		return err
	}
	lang := pageLang(c)
	d := invoicesData{Supervisor: u.Role == roleSupervisor, Total: total}
	for _, v := range items {
		d.Rows = append(d.Rows, invoiceRow{ID: v.ID, Kind: v.Kind, Payee: v.PayeeName, Municipality: v.MunicipalityName,
			Period: monthLabel(lang, v.Period), Status: v.Status, Number: v.Number, TotalCents: v.TotalCents, Lines: v.LineCount})
	}
	s.render(c, http.StatusOK, "invoices", view{Title: s.t(c, invoicesTitle(u.Role)), Nav: "invoices", Data: d})
	return nil
}

type declarationItem struct {
	Key, Text string
	Checked   bool
	Error     string
}

type invoiceData struct {
	Inv         store.InvoiceView
	Period      string
	CanDeclare  bool
	Declaration []declarationItem
	Declared    []string
}

func (s *Site) invoicePage(c *gin.Context) error {
	v, err := s.invoices.Invoice(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), invoices.AuditReadInvoice)
	if err != nil {
		return err
	}
	return s.renderInvoice(c, http.StatusOK, v, nil, nil)
}

func (s *Site) renderInvoice(c *gin.Context, status int, v store.InvoiceView, checked map[string]bool, fe []FieldError) error {
	lang := pageLang(c)
	text := func(k string) string {
		it, en, _ := invoices.Statement(k)
		if lang == langEN {
			return en
		}
		return it
	}
	d := invoiceData{Inv: v, Period: monthLabel(lang, v.Period),
		CanDeclare: httpx.CurrentUser(c).Role == roleMerchant && v.Status == store.InvoiceAwaitingDeclaration}
	var errs []summaryItem
	for _, k := range store.DeclarationItems {
		if v.Declaration[k] {
			d.Declared = append(d.Declared, text(k))
		}
		item := declarationItem{Key: k, Text: text(k), Checked: checked[k]}
		for _, f := range fe {
			if f.Pointer == "/"+k {
				item.Error = s.t(c, "inv.decl.required")
				errs = append(errs, summaryItem{Href: "#decl-" + k, Text: item.Error})
			}
		}
		d.Declaration = append(d.Declaration, item)
	}
	title := s.t(c, "inv.invoice", v.Number)
	if v.Kind == store.InvoiceMerchant {
		title = s.t(c, "inv.claim", v.Number)
	}
	s.render(c, status, "invoice", view{Title: title, Nav: "invoices", Data: d, Errors: errs,
		Crumbs: []crumb{{"/invoices", s.t(c, invoicesTitle(httpx.CurrentUser(c).Role))}}})
	return nil
}

func (s *Site) invoicePDFPage(c *gin.Context) error {
	pdf, name, err := s.invoices.PDF(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	return httpx.PrivateFile(c, "application/pdf", pdf, name, err)
}

func (s *Site) declarationSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	u := httpx.CurrentUser(c)
	checked := map[string]bool{}
	for _, k := range store.DeclarationItems {
		checked[k] = c.PostForm(k) == "yes"
	}
	_, err := s.invoices.Declare(ctx, u, c.Param("id"), checked)
	if err == nil {
		setFlash(c, "success", "inv.declared")
		redirect(c, "/invoices/"+c.Param("id"))
		return nil
	}
	he := httpx.From(err)
	switch {
	case he.Status == http.StatusUnprocessableEntity:
		v, rerr := s.api.Invoice(ctx, u.Scope(), c.Param("id"))
		if rerr != nil {
			return rerr
		}
		return s.renderInvoice(c, http.StatusUnprocessableEntity, v, checked, he.Fields)
	case he.Status == http.StatusConflict:
		setFlash(c, "danger", "inv.already_declared")
		redirect(c, "/invoices/"+c.Param("id"))
		return nil
	}
	return err
}
