// Package invoices is billing as its people see it: cooperatives read their
// invoices, merchants their reimbursement claims and sign the claim's
// self-declaration, supervisors read both for their district. Row-level
// security decides who sees which invoice; a supervisor's reads are
// audited, and so is every declaration.
//
// The billing run itself (preparing, sending and reconciling invoices) is
// the Billing workflow and its activities; this package holds the use
// cases of people. Its adapters are api/billing.go and api/web/billing.go.
package invoices

import (
	"context"
	"errors"
	"strconv"

	"go.temporal.io/api/serviceerror"

	"sportello/internal/app"
	"sportello/internal/billing"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the invoice use cases.
type Service struct{ *app.Core }

// New returns the invoice service on core.
func New(core *app.Core) Service { return Service{core} }

// Audit actions on invoices.
const (
	AuditReadInvoice     = "read_invoice"
	AuditDownloadInvoice = "download_invoice"
	AuditDeclareClaim    = "declare_claim"
)

var (
	errReaders      = app.Refuse(app.Forbidden, "forbidden", "your role may not use this resource")
	errAlreadyDone  = app.Refuse(app.Conflict, "already_declared", "this claim does not await a declaration")
	invoiceReadRole = []contract.Role{contract.RoleCooperative, contract.RoleMerchant, contract.RoleSupervisor}
)

// mayRead tells the roles that read invoices.
func mayRead(u store.UserView) bool {
	for _, r := range invoiceReadRole {
		if contract.Role(u.Role) == r {
			return true
		}
	}
	return false
}

// CheckFilter checks a list's kind and status filters (query parameters).
func CheckFilter(f store.InvoiceFilter) []app.FieldError {
	var fe []app.FieldError
	if f.Kind != "" && f.Kind != store.InvoiceCooperative && f.Kind != store.InvoiceMerchant {
		fe = append(fe, app.Param("kind", "invalid", "invoices.err.kind_unknown"))
	}
	switch f.Status {
	case "", store.InvoiceAwaitingDeclaration, store.InvoiceReady, store.InvoiceSent, store.InvoicePaid:
	default:
		fe = append(fe, app.Param("status", "invalid", "invoices.err.status_invalid"))
	}
	return fe
}

// List lists the invoices user sees under f.
func (s Service) List(ctx context.Context, u store.UserView, f store.InvoiceFilter) ([]store.InvoiceView, int, error) {
	if !mayRead(u) {
		return nil, 0, errReaders
	}
	if fe := CheckFilter(f); len(fe) > 0 {
		return nil, 0, app.InvalidInput(fe...)
	}
	items, total, err := s.API.Invoices(ctx, u.Scope(), f)
	if items == nil {
		items = []store.InvoiceView{}
	}
	return items, total, err
}

// Invoice reads invoice id as u; a supervisor's read is audited as action
// (AuditReadInvoice or AuditDownloadInvoice).
func (s Service) Invoice(ctx context.Context, u store.UserView, id, action string) (store.InvoiceView, error) {
	if !mayRead(u) {
		return store.InvoiceView{}, errReaders
	}
	v, err := s.API.Invoice(ctx, u.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return v, app.Missing("invoice")
	}
	if err != nil {
		return v, err
	}
	if u.Role == string(contract.RoleSupervisor) {
		if err := s.Audit(ctx, u, store.AuditEntry{Action: action, Municipality: v.Municipality,
			Detail: app.AuditDetail(map[string]any{"invoice_id": v.ID, "number": v.Number, "kind": v.Kind, "payee": v.PayeeID})}); err != nil {
			return v, err
		}
	}
	return v, nil
}

// PDF is invoice id as a PDF document, with its file name.
func (s Service) PDF(ctx context.Context, u store.UserView, id string) (pdf []byte, name string, err error) {
	v, err := s.Invoice(ctx, u, id, AuditDownloadInvoice)
	if err != nil {
		return nil, "", err
	}
	pdf, err = billing.InvoicePDF(v)
	return pdf, FileName(v), err
}

// FileName is the name an invoice's PDF is saved under.
func FileName(v store.InvoiceView) string {
	prefix := "fattura"
	if v.Kind == store.InvoiceMerchant {
		prefix = "rimborso"
	}
	return prefix + "-" + strconv.FormatInt(v.Number, 10) + "-" + v.Period + ".pdf"
}

// Statement is one statement of the merchant's self-declaration, in
// Italian and English.
func Statement(key string) (it, en string, ok bool) {
	t, ok := billing.Statement(key)
	return t.In(i18n.IT), t.In(i18n.EN), ok
}

// checkDeclaration refuses statements that are not the declaration's and
// any statement left unconfirmed.
func checkDeclaration(decl map[string]bool) []app.FieldError {
	var fe []app.FieldError
	for k := range decl {
		if _, ok := billing.Statement(k); !ok {
			fe = append(fe, app.Field("/"+k, "unknown", "invoices.err.statement_unknown"))
		}
	}
	if len(fe) > 0 {
		return fe
	}
	for _, k := range store.DeclarationItems {
		if !decl[k] {
			text, _ := billing.Statement(k)
			fe = append(fe, app.Field("/"+k, "required", "invoices.err.confirm_declaration", text))
		}
	}
	return fe
}

// Declare records merchant u's self-declaration on claim id and tells the
// billing run, which also finds it by itself later if the signal is lost.
func (s Service) Declare(ctx context.Context, u store.UserView, id string, decl map[string]bool) (store.InvoiceView, error) {
	if u.Role != string(contract.RoleMerchant) {
		return store.InvoiceView{}, errReaders
	}
	if fe := checkDeclaration(decl); len(fe) > 0 {
		return store.InvoiceView{}, app.InvalidInput(fe...)
	}
	var v store.InvoiceView
	err := s.Audited(ctx, u, store.AuditEntry{Action: AuditDeclareClaim, Municipality: u.Municipality,
		Detail: app.AuditDetail(map[string]any{"invoice_id": id})}, func() error {
		var err error
		v, err = s.API.DeclareClaim(ctx, u.Scope(), id, decl)
		if errors.Is(err, store.ErrNotFound) {
			return app.Missing("claim")
		}
		var ce *store.ConflictError
		if errors.As(err, &ce) && ce.Code == "already_declared" {
			return errAlreadyDone
		}
		return err
	})
	if err != nil {
		return v, err
	}
	if v.WorkflowID != "" && s.Temporal != nil {
		err := s.Temporal.SignalWorkflow(ctx, v.WorkflowID, "", workflows.SignalDeclared, nil)
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			s.Log.Warn("billing run not told of the declaration; it will find it when it next looks", "invoice", v.ID, "err", err)
		}
	}
	return v, nil
}
