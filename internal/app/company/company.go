// Package company is company welfare as its people see it (issue 15): a
// company's welfare manager reads the company's plan, enrols employees by
// tax code (one by one or from a CSV file, all or nothing), withdraws
// them, tops up the company's account through the payment provider and
// reads the spending in aggregate (by month and category, never by
// employee); an employee reads their own credit; the district's
// supervisors read the companies in aggregate. Row-level security
// (migration 031) decides which company a caller reaches; this package
// checks the role and the input. Its adapter is api/company.go.
package company

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/payments"
	"sportello/internal/store"
	"sportello/workflows"
)

// Service does the company welfare use cases.
type Service struct {
	*app.Core
	// Payments is the payment provider's client (top-ups); nil: none.
	Payments *payments.Client
	// PortalURL is where the provider sends the manager back after paying.
	PortalURL string
}

// New returns the company service on core.
func New(core *app.Core, pay *payments.Client, portalURL string) Service {
	return Service{Core: core, Payments: pay, PortalURL: portalURL}
}

// The most employees one CSV file may enrol, and the largest top-up.
const (
	MaxImportLines = 2000
	MaxTopUpCents  = 100_000_000 // EUR 1,000,000
)

var (
	errManagers    = app.Refuse(app.Forbidden, "forbidden", "only a company's welfare manager may use this resource")
	errCitizens    = app.Refuse(app.Forbidden, "forbidden", "only citizens have company credits")
	errSupervisors = app.Refuse(app.Forbidden, "forbidden", "only supervisors read companies in aggregate")
	errNoPayments  = app.Refuse(app.Unavailable, "payments_unavailable", "the payment provider is not configured; try again later")
)

func isRole(u store.UserView, r contract.Role) bool { return u.Role == string(r) }

// Overview is the manager's company with its plan valid today.
func (s Service) Overview(ctx context.Context, u store.UserView) (store.CompanyOverview, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.CompanyOverview{}, errManagers
	}
	o, err := s.API.CompanyOverview(ctx, u.Scope(), s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return o, app.Missing("company plan")
	}
	return o, err
}

// Employees lists the manager's enrolments (tax code and dates only).
func (s Service) Employees(ctx context.Context, u store.UserView) ([]store.CompanyEmployee, error) {
	return asRole(ctx, u, contract.RoleWelfareManager, errManagers, s.API.CompanyEmployees)
}

// asRole is read in u's scope when u has role, refusal otherwise.
func asRole[T any](ctx context.Context, u store.UserView, role contract.Role, refusal error,
	read func(context.Context, store.Scope) ([]T, error)) ([]T, error) {
	if !isRole(u, role) {
		return nil, refusal
	}
	return read(ctx, u.Scope())
}

// EnrolRequest enrols one employee by tax code.
type EnrolRequest struct {
	TaxCode string `json:"tax_code"`
}

// WithdrawRequest ends one employee's enrolment.
type WithdrawRequest struct {
	TaxCode string `json:"tax_code"`
}

// taxCode checks a tax code field at pointer: upper-cased, checked with the forms' check.
func taxCode(raw, pointer string) (string, *app.FieldError) {
	tc := strings.ToUpper(strings.TrimSpace(raw))
	if tc == "" {
		f := app.Field(pointer, "required", "company.err.tax_code_required")
		return "", &f
	}
	if !forms.ValidTaxCode(tc) {
		f := app.Field(pointer, "invalid_tax_code", "company.err.tax_code_invalid")
		return "", &f
	}
	return tc, nil
}

// Enrol enrols one employee: 422 for a bad tax code, 409 when already
// enrolled or when the company's account cannot cover the credit.
func (s Service) Enrol(ctx context.Context, u store.UserView, req EnrolRequest) (store.CompanyEmployee, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.CompanyEmployee{}, errManagers
	}
	tc, fe := taxCode(req.TaxCode, "/tax_code")
	if fe != nil {
		return store.CompanyEmployee{}, app.InvalidInput(*fe)
	}
	var got []store.CompanyEmployee
	err := s.Audited(ctx, u, store.AuditEntry{Action: AuditEnrol, ActingFor: tc}, func() error {
		var err error
		got, err = s.enrol(ctx, u, []string{tc})
		return err
	})
	if err != nil {
		return store.CompanyEmployee{}, err
	}
	return got[0], nil
}

func (s Service) enrol(ctx context.Context, u store.UserView, codes []string) ([]store.CompanyEmployee, error) {
	got, err := s.API.EnrolEmployees(ctx, u.Scope(), s.Now(), codes)
	if errors.Is(err, store.ErrNotFound) {
		return nil, app.Missing("company plan")
	}
	return got, err
}

// ImportResult is the outcome of a CSV enrolment.
type ImportResult struct {
	Enrolled  int                     `json:"enrolled"`
	Employees []store.CompanyEmployee `json:"employees"`
}

// Import enrols the tax codes of a CSV file, all or nothing: one tax code
// per line in the first column (',' or ';' separated; a header naming
// codice_fiscale or tax_code is skipped; blank lines are ignored). Every
// line is checked first; a file with any bad, repeated or already
// enrolled tax code enrols nobody and is a 422 whose fields point at
// /lines/<line> (1-based, as an editor numbers them).
func (s Service) Import(ctx context.Context, u store.UserView, body []byte) (ImportResult, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return ImportResult{}, errManagers
	}
	var res ImportResult
	e := store.AuditEntry{Action: AuditImport}
	err := s.Audited(ctx, u, e, func() error {
		var err error
		res, err = s.importCodes(ctx, u, body)
		return err
	})
	return res, err
}

// importCodes checks and enrols the tax codes of body (Import).
func (s Service) importCodes(ctx context.Context, u store.UserView, body []byte) (ImportResult, error) {
	codes, lines, fields := parseCSV(body)
	if len(fields) == 0 && len(codes) == 0 {
		fields = append(fields, app.Field("/lines", "empty", "company.err.csv_empty"))
	}
	if len(codes) > MaxImportLines {
		fields = append(fields, app.Field("/lines", "too_many", "company.err.csv_too_many", MaxImportLines))
	}
	if len(fields) == 0 {
		enrolled, err := s.API.EnrolledTaxCodes(ctx, u.Scope(), s.Now(), codes)
		if err != nil {
			return ImportResult{}, err
		}
		for i, tc := range codes {
			if enrolled[tc] {
				fields = append(fields, app.Field(linePointer(lines[i]), "already_enrolled", "company.err.already_enrolled"))
			}
		}
	}
	if len(fields) > 0 {
		return ImportResult{}, app.InvalidInput(fields...)
	}
	got, err := s.enrol(ctx, u, codes)
	if err != nil {
		return ImportResult{}, err
	}
	return ImportResult{Enrolled: len(got), Employees: got}, nil
}

func linePointer(line int) string { return "/lines/" + strconv.Itoa(line) }

// parseCSV reads the tax codes of body with the line of each, and the
// problems of its lines.
func parseCSV(body []byte) (codes []string, lines []int, fields []app.FieldError) {
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	sep := ','
	if first, _, _ := bytes.Cut(body, []byte("\n")); bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		sep = ';'
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma, r.FieldsPerRecord, r.TrimLeadingSpace = sep, -1, true
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			fields = append(fields, app.Field(linePointer(line), "unreadable", "company.err.csv_unreadable"))
			break
		}
		raw := strings.TrimSpace(rec[0])
		if raw == "" {
			continue
		}
		if h := strings.ToLower(raw); len(codes) == 0 && len(fields) == 0 && (h == "codice_fiscale" || h == "tax_code") {
			continue
		}
		tc, fe := taxCode(raw, linePointer(line))
		switch {
		case fe != nil:
			fields = append(fields, *fe)
		case seen[tc] != 0:
			fields = append(fields, app.Field(linePointer(line), "repeated", "company.err.csv_repeated", seen[tc]))
		default:
			seen[tc] = line
			codes, lines = append(codes, tc), append(lines, line)
		}
	}
	return codes, lines, fields
}

// Withdraw ends an employee's enrolment; what is left of their credit goes
// back to the company's account.
func (s Service) Withdraw(ctx context.Context, u store.UserView, req WithdrawRequest) (store.CompanyEmployee, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.CompanyEmployee{}, errManagers
	}
	tc, fe := taxCode(req.TaxCode, "/tax_code")
	if fe != nil {
		return store.CompanyEmployee{}, app.InvalidInput(*fe)
	}
	var e store.CompanyEmployee
	err := s.Audited(ctx, u, store.AuditEntry{Action: AuditWithdraw, ActingFor: tc}, func() error {
		var err error
		e, err = s.API.WithdrawEmployee(ctx, u.Scope(), tc)
		if errors.Is(err, store.ErrNotFound) {
			return app.Missing("enrolled employee")
		}
		return err
	})
	return e, err
}

// Spending is the company's spending by month and category, small groups
// suppressed (Suppress).
func (s Service) Spending(ctx context.Context, u store.UserView) ([]SpendingCell, error) {
	rows, err := asRole(ctx, u, contract.RoleWelfareManager, errManagers, s.API.CompanySpending)
	if err != nil {
		return nil, err
	}
	cells, _ := Suppress(rows)
	return cells, nil
}

// MyCredits is the calling citizen's company credits.
func (s Service) MyCredits(ctx context.Context, u store.UserView) ([]store.EmployeeCredit, error) {
	return asRole(ctx, u, contract.RoleCitizen, errCitizens, s.API.MyCompanyCredits)
}

// Aggregates is the supervisor's district's companies in aggregate.
func (s Service) Aggregates(ctx context.Context, u store.UserView) ([]store.CompanyAggregate, error) {
	return asRole(ctx, u, contract.RoleSupervisor, errSupervisors, s.API.CompanyAggregates)
}

// TopUpRequest asks to top up the company's account.
type TopUpRequest struct {
	AmountCents int64 `json:"amount_cents"`
}

// TopUpReturnPath is where the provider sends the manager back after paying.
const TopUpReturnPath = "/azienda"

// TopUpReference is the merchant reference of a top-up's payment.
func TopUpReference(id string) string { return "company-topup:" + id }

// RequestTopUp records a pending top-up and opens its payment with the
// provider; the manager pays at the answer's payment_url. Nothing is
// booked until ConfirmTopUp finds the payment captured.
func (s Service) RequestTopUp(ctx context.Context, u store.UserView, req TopUpRequest) (store.TopUp, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.TopUp{}, errManagers
	}
	if req.AmountCents <= 0 || req.AmountCents > MaxTopUpCents {
		return store.TopUp{}, app.InvalidInput(app.Field("/amount_cents", "out_of_range", "company.err.topup_amount", MaxTopUpCents/100))
	}
	if s.Payments == nil {
		return store.TopUp{}, errNoPayments
	}
	var t store.TopUp
	e := store.AuditEntry{Action: AuditTopUp, Detail: app.AuditDetail(map[string]any{"amount_cents": req.AmountCents})}
	err := s.Audited(ctx, u, e, func() error {
		var err error
		t, err = s.requestTopUp(ctx, u, req)
		return err
	})
	return t, err
}

// requestTopUp records the top-up and opens its payment (RequestTopUp).
func (s Service) requestTopUp(ctx context.Context, u store.UserView, req TopUpRequest) (store.TopUp, error) {
	t, err := s.API.CreateTopUp(ctx, u.Scope(), uuid.NewString(), req.AmountCents)
	if err != nil {
		return t, err
	}
	p, err := s.Payments.CreateIntent(ctx, "company-topup:"+t.ID, payments.IntentRequest{AmountCents: t.AmountCents,
		Description: "Ricarica welfare aziendale", MerchantReference: TopUpReference(t.ID), ReturnURL: s.PortalURL + TopUpReturnPath,
		// The provider's events about it need no answer (the API's callback
		// ignores a reference that is no booking): ConfirmTopUp asks the
		// provider itself.
		CallbackURL: s.PortalURL + workflows.PaymentsCallbackPath})
	if err != nil {
		return t, app.Refuse(app.Unavailable, "payments_unavailable", "the payment provider did not answer; try again later")
	}
	return s.API.SetTopUpPayment(ctx, t.ID, p.ID, p.CheckoutURL)
}

// TopUp is one of the company's top-ups (404 for another company's).
func (s Service) TopUp(ctx context.Context, u store.UserView, id string) (store.TopUp, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.TopUp{}, errManagers
	}
	if _, err := uuid.Parse(id); err != nil {
		return store.TopUp{}, app.Missing("top-up")
	}
	t, err := s.API.TopUp(ctx, u.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, app.Missing("top-up")
	}
	return t, err
}

// TopUps lists the company's top-ups.
func (s Service) TopUps(ctx context.Context, u store.UserView) ([]store.TopUp, error) {
	return asRole(ctx, u, contract.RoleWelfareManager, errManagers, s.API.TopUps)
}

// ConfirmTopUp asks the provider about top-up id's payment and books it
// when the provider reports it captured for the top-up's amount and
// reference (the provider's figures, never the caller's); a canceled
// payment fails the top-up; one still open is a 409 topup_not_paid.
func (s Service) ConfirmTopUp(ctx context.Context, u store.UserView, id string) (store.TopUp, error) {
	if !isRole(u, contract.RoleWelfareManager) {
		return store.TopUp{}, errManagers
	}
	if _, err := uuid.Parse(id); err != nil {
		return store.TopUp{}, app.Missing("top-up")
	}
	t, err := s.API.TopUp(ctx, u.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, app.Missing("top-up")
	}
	if err != nil || t.Status != store.TopUpPending {
		return t, err
	}
	if s.Payments == nil || t.PaymentID == "" {
		return t, errNoPayments
	}
	p, err := s.Payments.Payment(ctx, t.PaymentID)
	if err != nil {
		return t, app.Refuse(app.Unavailable, "payments_unavailable", "the payment provider did not answer; try again later")
	}
	switch {
	case p.MerchantReference != TopUpReference(t.ID):
		return t, app.Refuse(app.Conflict, "topup_not_confirmed", "the provider does not confirm this top-up's payment")
	case p.Status == payments.StatusCaptured:
		booked, err := s.API.ConfirmTopUp(ctx, t.ID, p.ID, p.CapturedCents)
		s.AuditOutcome(ctx, u, store.AuditEntry{Action: AuditTopUpConfirm,
			Detail: app.AuditDetail(map[string]any{"topup_id": t.ID, "amount_cents": p.CapturedCents})}, err)
		return booked, err
	case p.Status == payments.StatusCanceled:
		return s.API.FailTopUp(ctx, t.ID)
	}
	return t, app.Refuse(app.Conflict, "topup_not_paid", "the top-up has not been paid yet")
}
