package company

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"time"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// Monthly statements (migration 034). Each company gets one statement per
// calendar month (Italian time): its account's opening balance, top-ups,
// credit allotted to and withdrawn from employees and closing balance, as
// the ledger has them (reconciled to the cent, or not issued at all), its
// employees' spending by category through the small-group suppression
// (Suppress), and, when it topped up that month, the invoice of its
// top-ups, the district as issuer and the company as customer, numbered
// per district and year without gaps. The CompanyStatements schedule
// issues last month's for every company on the 1st (store.IssueDueStatements); a welfare
// manager or a supervisor issues a past month's on demand. Issuing is
// idempotent: a month has one statement, whoever asks and however often.

// StatementView is a statement as it is shown: spending suppressed.
type StatementView struct {
	store.CompanyStatement
	Spending []SpendingCell `json:"spending"`
	// SpendingTotalCents is the month's total spending, only when no cell is suppressed.
	SpendingTotalCents *int64 `json:"spending_total_cents,omitempty"`
}

// View is the statement s as it may be shown.
func View(s store.CompanyStatement) StatementView {
	cells, total := Suppress(s.Spending)
	return StatementView{CompanyStatement: s, Spending: cells, SpendingTotalCents: total}
}

// IssueRequest asks for the statement of a past month.
type IssueRequest struct {
	Month string `json:"month"` // YYYY-MM
}

// Audit actions of company welfare.
const (
	AuditEnrol             = "company_enrol"
	AuditWithdraw          = "company_withdraw"
	AuditImport            = "company_import"
	AuditTopUp             = "company_topup"
	AuditTopUpConfirm      = "company_topup_confirm"
	AuditStatementIssue    = "company_statement_issue"
	AuditStatementDownload = "company_statement_download"
)

var errStatementReaders = app.Refuse(app.Forbidden, "forbidden",
	"only the company's welfare manager and the district's supervisors read its statements")

// company checks that u may read company id's statements: its welfare
// manager, or a supervisor of its district (row-level security decides
// which company they reach: another's is 404).
func (s Service) company(ctx context.Context, u store.UserView, id string) (store.Company, time.Time, error) {
	if !isRole(u, contract.RoleWelfareManager) && !isRole(u, contract.RoleSupervisor) {
		return store.Company{}, time.Time{}, errStatementReaders
	}
	c, created, err := s.API.CompanyVisible(ctx, u.Scope(), id)
	if errors.Is(err, store.ErrNotFound) {
		return c, created, app.Missing("company")
	}
	return c, created, err
}

// Statements lists company id's statements, newest first.
func (s Service) Statements(ctx context.Context, u store.UserView, id string) ([]StatementView, error) {
	if _, _, err := s.company(ctx, u, id); err != nil {
		return nil, err
	}
	list, err := s.API.CompanyStatements(ctx, u.Scope(), id)
	if err != nil {
		return nil, err
	}
	out := make([]StatementView, len(list))
	for i, st := range list {
		out[i] = View(st)
	}
	return out, nil
}

// Statement is company id's statement of month (YYYY-MM).
func (s Service) Statement(ctx context.Context, u store.UserView, id, month string) (StatementView, error) {
	if _, _, err := s.company(ctx, u, id); err != nil {
		return StatementView{}, err
	}
	if _, err := time.Parse("2006-01", month); err != nil {
		return StatementView{}, app.Missing("statement")
	}
	st, err := s.API.CompanyStatementOf(ctx, u.Scope(), id, month)
	if errors.Is(err, store.ErrNotFound) {
		return StatementView{}, app.Missing("statement")
	}
	return View(st), err
}

// monthStart is the first day of the month of t in Italian time.
func monthStart(t time.Time) time.Time { return store.StatementMonth(t) }

// Issue issues company id's statement of a past month on demand (created
// false when it had been issued already): 422 for a month that is not
// YYYY-MM, not over yet, or before the company joined.
func (s Service) Issue(ctx context.Context, u store.UserView, id string, req IssueRequest) (StatementView, bool, error) {
	c, joined, err := s.company(ctx, u, id)
	if err != nil {
		return StatementView{}, false, err
	}
	m, perr := time.Parse("2006-01", req.Month)
	switch {
	case perr != nil:
		return StatementView{}, false, app.InvalidInput(app.Field("/month", "invalid", "company.err.month_invalid"))
	case !m.Before(monthStart(s.Now())):
		return StatementView{}, false, app.InvalidInput(app.Field("/month", "not_over", "company.err.month_not_over"))
	case m.Before(monthStart(joined)):
		return StatementView{}, false, app.InvalidInput(app.Field("/month", "before_joining", "company.err.month_before_joining"))
	}
	var (
		st      store.CompanyStatement
		created bool
	)
	e := store.AuditEntry{Action: AuditStatementIssue, Detail: app.AuditDetail(map[string]any{"company_id": c.ID, "month": req.Month})}
	err = s.Audited(ctx, u, e, func() error {
		var err error
		st, created, err = s.API.IssueCompanyStatement(ctx, c.ID, m, s.Now(), u.Username)
		return err
	})
	return View(st), created, err
}

// StatementCSV is company id's statement of month as a CSV file in lang,
// and its file name; the download is audited.
func (s Service) StatementCSV(ctx context.Context, u store.UserView, id, month, lang string) ([]byte, string, error) {
	v, err := s.Statement(ctx, u, id, month)
	if err != nil {
		return nil, "", err
	}
	e := store.AuditEntry{Action: AuditStatementDownload, Detail: app.AuditDetail(map[string]any{"company_id": id, "month": month, "form": "csv"})}
	if err := s.AuditWritable(ctx, u, e); err != nil {
		return nil, "", err
	}
	raw, err := statementCSV(v, lang)
	if err != nil {
		return nil, "", err
	}
	s.AuditOutcome(ctx, u, e, nil)
	return raw, "rendiconto-" + id + "-" + month + ".csv", nil
}

// AuditStatementRead records that u opened company id's statement of
// month as a page (its printable form).
func (s Service) AuditStatementRead(ctx context.Context, u store.UserView, id, month string) error {
	return s.Audit(ctx, u, store.AuditEntry{Action: AuditStatementDownload,
		Detail: app.AuditDetail(map[string]any{"company_id": id, "month": month, "form": "page"})})
}

// cents writes an amount for a spreadsheet: 1234.50.
func cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

func statementCSV(v StatementView, lang string) ([]byte, error) {
	t := func(id string, args ...any) string { return i18n.T(lang, id, args...) }
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rows := [][]string{
		{t("company.csv.item"), t("company.csv.value")},
		{t("company.statement.company"), v.CompanyName},
		{t("company.statement.month"), v.Month},
		{t("company.statement.opening"), cents(v.OpeningCents)},
		{t("company.statement.topups"), cents(v.TopUpsCents)},
		{t("company.statement.allotted"), cents(v.AllottedCents)},
		{t("company.statement.revoked"), cents(v.RevokedCents)},
		{t("company.statement.closing"), cents(v.ClosingCents)},
	}
	for _, c := range v.Spending {
		val := t("company.suppressed")
		if !c.Suppressed {
			val = cents(*c.SpentCents)
		}
		rows = append(rows, []string{t("company.statement.spending_in", t("cat.category."+c.Category)), val})
	}
	if v.SpendingTotalCents != nil {
		rows = append(rows, []string{t("company.statement.spending_total"), cents(*v.SpendingTotalCents)})
	}
	if v.Invoice != nil {
		rows = append(rows, []string{t("company.statement.invoice"), v.Invoice.Code},
			[]string{t("company.statement.invoice_amount"), cents(v.Invoice.AmountCents)})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
