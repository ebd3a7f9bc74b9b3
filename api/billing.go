package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/invoices"
	"sportello/internal/store"
)

// Billing in the JSON API: cooperatives read their invoices, merchants their
// reimbursement claims (and sign the self-declaration), supervisors both for
// their district. The use cases are internal/app/invoices.

// invoiceFilter reads the list's query parameters.
func invoiceFilter(c *gin.Context) (store.InvoiceFilter, []FieldError) {
	f := store.InvoiceFilter{Kind: strings.TrimSpace(c.Query("kind")), Status: strings.TrimSpace(c.Query("status"))}
	fe := invoices.CheckFilter(f)
	limit, offset, pfe := httpx.PageWindow(c, 0, 100, false)
	f.Limit, f.Offset = limit, offset
	return f, append(fe, pfe...)
}

func (s *server) listInvoices(c *gin.Context) error {
	f, fe := invoiceFilter(c)
	if len(fe) > 0 {
		return invalid(fe...)
	}
	items, total, err := s.invoices.List(c.Request.Context(), httpx.CurrentUser(c), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total})
	return nil
}

func (s *server) getInvoice(c *gin.Context) error {
	v, err := s.invoices.Invoice(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), invoices.AuditReadInvoice)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (s *server) invoicePDF(c *gin.Context) error {
	pdf, name, err := s.invoices.PDF(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	return httpx.PrivateFile(c, "application/pdf", pdf, name, err)
}

func (s *server) declareClaim(c *gin.Context) error {
	decl := map[string]bool{}
	if err := decodeJSON(c, &decl); err != nil {
		return err
	}
	v, err := s.invoices.Declare(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), decl)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
