package company

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/i18n"
	"sportello/internal/store"
	"sportello/internal/voucherpdf"
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

// StatementView is a statement as it is shown: spending and returned
// credit suppressed.
type StatementView struct {
	store.CompanyStatement
	// RevokedCents is the credit returned at withdrawals, nil when it sums
	// fewer than MinGroup employees (SuppressReturned).
	RevokedCents      *int64         `json:"revoked_cents,omitempty"`
	RevokedSuppressed bool           `json:"revoked_suppressed"`
	Spending          []SpendingCell `json:"spending"`
	// SpendingTotalCents is the month's total spending, only when no cell is suppressed.
	SpendingTotalCents *int64 `json:"spending_total_cents,omitempty"`
}

// View is the statement s as it may be shown.
func View(s store.CompanyStatement) StatementView {
	cells, total := Suppress(s.Spending)
	revoked := SuppressReturned(s.RevokedCents, s.RevokedEmployees)
	return StatementView{CompanyStatement: s, RevokedCents: revoked, RevokedSuppressed: revoked == nil,
		Spending: cells, SpendingTotalCents: total}
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
	return s.statementFile(ctx, u, id, month, "csv", func(v StatementView) ([]byte, error) { return statementCSV(v, lang) })
}

// StatementPDF is company id's statement of month and its invoice as a
// PDF document in lang (internal/voucherpdf), and its file name; the
// download is audited. Like the page and the CSV, it shows spending and
// returned credit through the small-group suppression and names no
// employee.
func (s Service) StatementPDF(ctx context.Context, u store.UserView, id, month, lang string) ([]byte, string, error) {
	return s.statementFile(ctx, u, id, month, "pdf", func(v StatementView) ([]byte, error) { return statementPDF(v, lang) })
}

// statementFile is company id's statement of month rendered as form by
// render, and its file name; the download is audited (nothing is given
// when the audit row cannot be written).
func (s Service) statementFile(ctx context.Context, u store.UserView, id, month, form string,
	render func(StatementView) ([]byte, error)) ([]byte, string, error) {
	v, err := s.Statement(ctx, u, id, month)
	if err != nil {
		return nil, "", err
	}
	e := store.AuditEntry{Action: AuditStatementDownload, Detail: app.AuditDetail(map[string]any{"company_id": id, "month": month, "form": form})}
	if err := s.AuditWritable(ctx, u, e); err != nil {
		return nil, "", err
	}
	raw, err := render(v)
	if err != nil {
		return nil, "", err
	}
	s.AuditOutcome(ctx, u, e, nil)
	return raw, "rendiconto-" + id + "-" + month + "." + form, nil
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

// statementItems are the statement's items in lang, each a label and a
// value (amounts written by money, a suppressed one said so): its
// account, its spending by category, its invoice (none without one).
func statementItems(v StatementView, lang string, money func(int64) string) (account, spending, invoice [][]string) {
	t := func(id string, args ...any) string { return i18n.T(lang, id, args...) }
	shown := func(c *int64) string {
		if c == nil {
			return t("company.suppressed")
		}
		return money(*c)
	}
	account = [][]string{
		{t("company.statement.opening"), money(v.OpeningCents)},
		{t("company.statement.topups"), money(v.TopUpsCents)},
		{t("company.statement.allotted"), money(v.AllottedCents)},
		{t("company.statement.revoked"), shown(v.RevokedCents)},
		{t("company.statement.closing"), money(v.ClosingCents)},
	}
	for _, c := range v.Spending {
		spending = append(spending, []string{t("company.statement.spending_in", t("cat.category."+c.Category)), shown(c.SpentCents)})
	}
	if v.SpendingTotalCents != nil {
		spending = append(spending, []string{t("company.statement.spending_total"), money(*v.SpendingTotalCents)})
	}
	if inv := v.Invoice; inv != nil {
		invoice = [][]string{
			{t("company.statement.invoice_number"), inv.Code},
			{t("company.statement.invoice_date"), inv.Date.Format("02/01/2006")},
			{t("company.statement.issuer"), strings.Join(nonEmpty(inv.Issuer.Name, inv.Issuer.Address, inv.Issuer.PEC), ", ")},
			{t("company.statement.customer"), inv.Customer.Name + ", " + t("company.statement.vat", inv.Customer.VATNumber)},
			{t("company.statement.invoice_item"), t("company.statement.invoice_desc", v.Month)},
			{t("company.statement.invoice_amount"), money(inv.AmountCents)},
		}
	}
	return account, spending, invoice
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func statementCSV(v StatementView, lang string) ([]byte, error) {
	t := func(id string, args ...any) string { return i18n.T(lang, id, args...) }
	account, spending, _ := statementItems(v, lang, cents)
	rows := [][]string{
		{t("company.csv.item"), t("company.csv.value")},
		{t("company.statement.company"), v.CompanyName},
		{t("company.statement.month"), v.Month},
	}
	rows = append(append(rows, account...), spending...)
	if v.Invoice != nil {
		rows = append(rows, []string{t("company.statement.invoice"), v.Invoice.Code},
			[]string{t("company.statement.invoice_amount"), cents(v.Invoice.AmountCents)})
	}
	var b bytes.Buffer
	if err := csv.NewWriter(&b).WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// statementPDF is the statement as a document of sections (the account,
// the spending, the invoice), in lang, dated when it was issued.
func statementPDF(v StatementView, lang string) ([]byte, error) {
	t := func(id string, args ...any) string { return i18n.T(lang, id, args...) }
	money := func(c int64) string { return i18n.Money(lang, c) }
	account, spending, invoice := statementItems(v, lang, money)
	lines := func(items [][]string) []string {
		out := make([]string, 0, len(items))
		for _, it := range items {
			out = append(out, it[0]+": "+it[1])
		}
		return out
	}
	intro := []string{t("company.statement.reconciled")}
	if v.RevokedSuppressed {
		intro = append(intro, t("company.statement.revoked_suppressed", MinGroup))
	}
	doc := voucherpdf.Document{
		Title:    t("company.statement.title", v.Month),
		Subtitle: v.CompanyName,
		Intro:    intro,
		Sections: []voucherpdf.Section{
			{Heading: t("company.statement.account"), Lines: lines(account)},
			{Heading: t("company.statement.spending"), Lines: lines(spending), Empty: t("company.spending_none")},
			{Heading: t("company.statement.invoice"), Lines: lines(invoice), Empty: t("company.statement.no_invoice_text")},
		},
		Footer:   t("company.statement.pdf_footer", v.CompanyName, v.Month),
		PageWord: t("company.statement.pdf_page"),
		Created:  v.CreatedAt,
	}
	if len(spending) > 0 {
		doc.Sections[1].Lines = append(doc.Sections[1].Lines, t("company.suppression_note", MinGroup))
	}
	var b bytes.Buffer
	if err := voucherpdf.WriteDocument(&b, doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
