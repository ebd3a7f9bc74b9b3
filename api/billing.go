package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"sportello/internal/billing"
	"sportello/internal/store"
	"sportello/workflows"
)

// Billing (issue 5) in the JSON API: cooperatives read their invoices,
// merchants their reimbursement claims (and sign the self-declaration),
// supervisors both for their district. Row-level security decides who sees
// which invoice; a supervisor's reads are audited.

// invoiceFilter reads the list's query parameters.
func invoiceFilter(c *gin.Context) (store.InvoiceFilter, []FieldError) {
	f := store.InvoiceFilter{Kind: strings.TrimSpace(c.Query("kind")), Status: strings.TrimSpace(c.Query("status"))}
	var fe []FieldError
	if f.Kind != "" && f.Kind != store.InvoiceCooperative && f.Kind != store.InvoiceMerchant {
		fe = append(fe, param("kind", "invalid", "kind is cooperative or merchant", "kind è cooperative o merchant"))
	}
	switch f.Status {
	case "", store.InvoiceAwaitingDeclaration, store.InvoiceReady, store.InvoiceSent, store.InvoicePaid:
	default:
		fe = append(fe, param("status", "invalid", "status is awaiting_declaration, ready, sent or paid",
			"status è awaiting_declaration, ready, sent o paid"))
	}
	limit, offset, pfe := pageWindow(c, 0, 100, false)
	f.Limit, f.Offset = limit, offset
	fe = append(fe, pfe...)
	return f, fe
}

func (s *server) listInvoices(c *gin.Context) error {
	f, fe := invoiceFilter(c)
	if len(fe) > 0 {
		return invalid(fe...)
	}
	u := currentUser(c)
	items, total, err := s.api.Invoices(c.Request.Context(), u.Scope(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []store.InvoiceView{}
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total})
	return nil
}

// invoice reads the invoice of the :id parameter as the caller, auditing a
// supervisor's read.
func (s *server) invoice(c *gin.Context, action string) (store.InvoiceView, error) {
	ctx := c.Request.Context()
	u := currentUser(c)
	v, err := s.api.Invoice(ctx, u.Scope(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return v, notFound("invoice")
	}
	if err != nil {
		return v, err
	}
	if u.Role == roleSupervisor {
		if err := s.audit(ctx, u, store.AuditEntry{Action: action, Municipality: v.Municipality,
			Detail: auditDetail(map[string]any{"invoice_id": v.ID, "number": v.Number, "kind": v.Kind, "payee": v.PayeeID})}); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *server) getInvoice(c *gin.Context) error {
	v, err := s.invoice(c, "read_invoice")
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (s *server) invoicePDF(c *gin.Context) error {
	v, err := s.invoice(c, "download_invoice")
	if err != nil {
		return err
	}
	pdf, err := billing.InvoicePDF(v)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "private, no-store")
	c.Header("Content-Disposition", `inline; filename="`+invoiceFileName(v)+`"`)
	c.Data(http.StatusOK, "application/pdf", pdf)
	return nil
}

func invoiceFileName(v store.InvoiceView) string {
	prefix := "fattura"
	if v.Kind == store.InvoiceMerchant {
		prefix = "rimborso"
	}
	return prefix + "-" + strconv.FormatInt(v.Number, 10) + "-" + v.Period + ".pdf"
}

// declarationFields checks that every statement is confirmed.
func declarationFields(decl map[string]bool) []FieldError {
	var fe []FieldError
	for _, k := range store.DeclarationItems {
		if !decl[k] {
			fe = append(fe, field("/"+k, "required", "confirm: "+billing.Declaration[k][1],
				"conferma: "+billing.Declaration[k][0]))
		}
	}
	return fe
}

// declare records the merchant's self-declaration on a claim and tells
// the billing run, which also finds it by itself later if the signal is lost.
func (s *server) declare(ctx context.Context, u store.UserView, id string, decl map[string]bool) (store.InvoiceView, error) {
	if fe := declarationFields(decl); len(fe) > 0 {
		return store.InvoiceView{}, invalid(fe...)
	}
	var v store.InvoiceView
	err := s.audited(ctx, u, store.AuditEntry{Action: "declare_claim", Municipality: u.Municipality,
		Detail: auditDetail(map[string]any{"invoice_id": id})}, func() error {
		var err error
		v, err = s.api.DeclareClaim(ctx, u.Scope(), id, decl)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("claim")
		}
		var ce *store.ConflictError
		if errors.As(err, &ce) && ce.Code == "already_declared" {
			return newError(http.StatusConflict, "already_declared", "this claim does not await a declaration")
		}
		return err
	})
	if err != nil {
		return v, err
	}
	if v.WorkflowID != "" {
		err := s.Temporal.SignalWorkflow(ctx, v.WorkflowID, "", workflows.SignalDeclared, nil)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			s.log.Warn("billing run not told of the declaration; it will find it when it next looks", "invoice", v.ID, "err", err)
		}
	}
	return v, nil
}

func (s *server) declareClaim(c *gin.Context) error {
	decl := map[string]bool{}
	if err := decodeJSON(c, &decl); err != nil {
		return err
	}
	for k := range decl {
		if _, ok := billing.Declaration[k]; !ok {
			return invalid(field("/"+k, "unknown", "not a statement of the declaration", "non è una voce della dichiarazione"))
		}
	}
	v, err := s.declare(c.Request.Context(), currentUser(c), c.Param("id"), decl)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}
