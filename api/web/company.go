package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/company"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// Company welfare pages (issue 15): /azienda is the welfare manager's
// company (its plan, employees, top-ups and spending in aggregate, small
// groups suppressed), with the forms to enrol one employee, import a CSV
// file and top up; /companies lists the district's companies for its
// supervisors; /companies/:id/statements are a company's monthly
// statements and invoices for both. The use cases are in
// internal/app/company.

// companyForm is what the forms of /azienda show again after a refusal.
type companyForm struct {
	TaxCode, CSV, Amount fieldView
	Errors               []summaryItem
	Status               int
}

// spendingCell is one shown cell of spending.
type spendingCell struct {
	Month, Category string
	Suppressed      bool
	Cents, Bookings int64
}

func (s *Site) spendingCells(c *gin.Context, cells []company.SpendingCell) []spendingCell {
	out := make([]spendingCell, 0, len(cells))
	for _, r := range cells {
		x := spendingCell{Month: r.Month, Category: s.t(c, "cat.category."+r.Category), Suppressed: r.Suppressed}
		if !r.Suppressed {
			x.Cents, x.Bookings = *r.SpentCents, *r.Bookings
		}
		out = append(out, x)
	}
	return out
}

// companyPage is /azienda.
func (s *Site) companyPage(c *gin.Context) error {
	return s.renderCompany(c, s.newCompanyForm(c))
}

func (s *Site) newCompanyForm(c *gin.Context) companyForm {
	return companyForm{Status: http.StatusOK,
		TaxCode: fieldView{Name: "tax_code", ID: "f-tax-code", Label: s.t(c, "company.form.tax_code"), Required: true,
			Autocomplete: "off", Extra: map[string]string{"spellcheck": "false", "maxlength": "16"}},
		CSV: fieldView{Name: "csv", ID: "f-csv", Label: s.t(c, "company.form.csv"), Hint: s.t(c, "company.form.csv_hint")},
		Amount: fieldView{Name: "amount", ID: "f-amount", Label: s.t(c, "company.form.amount"), Required: true,
			Hint: s.t(c, "company.form.amount_hint"), Extra: map[string]string{"inputmode": "decimal"}}}
}

func (s *Site) renderCompany(c *gin.Context, f companyForm) error {
	ctx, u := c.Request.Context(), httpx.CurrentUser(c)
	o, err := s.company.Overview(ctx, u)
	if err != nil {
		return err
	}
	employees, err := s.company.Employees(ctx, u)
	if err != nil {
		return err
	}
	topUps, err := s.company.TopUps(ctx, u)
	if err != nil {
		return err
	}
	spending, err := s.company.Spending(ctx, u)
	if err != nil {
		return err
	}
	points, err := s.company.HostedPoints(ctx, u)
	if err != nil {
		return err
	}
	cats := make([]string, 0, len(o.Plan.Categories))
	for _, cat := range o.Plan.Categories {
		cats = append(cats, s.t(c, "cat.category."+cat))
	}
	s.render(c, f.Status, "company", view{Title: s.t(c, "company.title"), Nav: "company", Errors: f.Errors,
		Data: map[string]any{"O": o, "Categories": strings.Join(cats, ", "), "Rows": s.spendingCells(c, spending),
			"Employees": employees, "TopUps": topUps, "Form": f, "MinGroup": company.MinGroup,
			"Points": s.pointCards(c, points)}})
	return nil
}

// companyRefused shows /azienda again with the refusal err at field (a
// field of *f): 422s field by field (a CSV's lines each named), 409s
// as the field's error; anything else is returned.
func (s *Site) companyRefused(c *gin.Context, f *companyForm, field *fieldView, err error) error {
	he := httpx.From(err)
	lang := pageLang(c)
	var msgs []string
	switch {
	case he.Status == http.StatusUnprocessableEntity && len(he.Fields) > 0:
		for _, fe := range he.Fields {
			msg := fe.In(lang)
			if line, ok := strings.CutPrefix(fe.Pointer, "/lines/"); ok {
				msg = s.t(c, "company.form.csv_line", line) + " " + msg
			}
			msgs = append(msgs, msg)
		}
	case he.Status == http.StatusConflict && hasMessage("company.err."+he.Code):
		msgs = append(msgs, s.t(c, "company.err."+he.Code))
	default:
		return err
	}
	field.Error = strings.Join(msgs, " ")
	for _, m := range msgs {
		f.Errors = append(f.Errors, summaryItem{Href: "#" + field.FieldID(), Text: field.Label + ": " + m})
	}
	f.Status = he.Status
	return s.renderCompany(c, *f)
}

// companyEnrolSubmit enrols one employee by tax code.
func (s *Site) companyEnrolSubmit(c *gin.Context) error {
	f := s.newCompanyForm(c)
	f.TaxCode.Value = strings.TrimSpace(c.PostForm("tax_code"))
	e, err := s.company.Enrol(c.Request.Context(), httpx.CurrentUser(c), company.EnrolRequest{TaxCode: f.TaxCode.Value})
	if err != nil {
		return s.companyRefused(c, &f, &f.TaxCode, err)
	}
	setFlash(c, "success", "company.flash.enrolled", e.TaxCode)
	redirect(c, "/azienda#employees")
	return nil
}

// maxCSVBytes bounds the CSV a page form sends (as the API's body limit does).
const maxCSVBytes = 1 << 20

// companyImportSubmit enrols the tax codes of a CSV file (uploaded, or
// pasted in the text area), all or nothing.
func (s *Site) companyImportSubmit(c *gin.Context) error {
	f := s.newCompanyForm(c)
	data := []byte(c.PostForm("csv"))
	if fh, err := c.FormFile("csv_file"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err != nil {
			return err
		}
		defer file.Close()
		if data, err = io.ReadAll(io.LimitReader(file, maxCSVBytes+1)); err != nil {
			return err
		}
	}
	if len(data) > maxCSVBytes {
		s.pageError(c, http.StatusRequestEntityTooLarge)
		return nil
	}
	f.CSV.Value = string(data)
	res, err := s.company.Import(c.Request.Context(), httpx.CurrentUser(c), data)
	if err != nil {
		return s.companyRefused(c, &f, &f.CSV, err)
	}
	setFlash(c, "success", "company.flash.imported", strconv.Itoa(res.Enrolled))
	redirect(c, "/azienda#employees")
	return nil
}

// companyTopUpSubmit opens a top-up's payment and sends the manager to the provider.
func (s *Site) companyTopUpSubmit(c *gin.Context) error {
	f := s.newCompanyForm(c)
	f.Amount.Value = strings.TrimSpace(c.PostForm("amount"))
	cents, ok := parseEuroInput(f.Amount.Value)
	if !ok {
		cents = -1 // refused by the service at the field, in the user's language
	}
	t, err := s.company.RequestTopUp(c.Request.Context(), httpx.CurrentUser(c), company.TopUpRequest{AmountCents: cents})
	if err != nil {
		return s.companyRefused(c, &f, &f.Amount, err)
	}
	redirect(c, "/azienda/top-ups/"+t.ID+"/pay")
	return nil
}

// companyPayPage sends the manager on to the provider's page for a
// pending top-up: a link (and a refresh), since the pages' form-action
// policy forbids a form post's redirect to another site.
func (s *Site) companyPayPage(c *gin.Context) error {
	t, err := s.company.TopUp(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	if t.Status != store.TopUpPending || t.PaymentURL == "" {
		redirect(c, "/azienda#topups")
		return nil
	}
	s.render(c, http.StatusOK, "company_pay", view{Title: s.t(c, "company.pay.title"), Nav: "company",
		Meta: map[string]any{"refresh": "2;url=" + t.PaymentURL}, Data: t})
	return nil
}

// companyTopUpConfirmSubmit asks the provider whether a top-up was paid.
func (s *Site) companyTopUpConfirmSubmit(c *gin.Context) error {
	t, err := s.company.ConfirmTopUp(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	he := httpx.From(err)
	switch {
	case err == nil && t.Status == store.TopUpPaid:
		setFlash(c, "success", "company.flash.topup_paid", i18n.Money(pageLang(c), t.AmountCents))
	case err == nil:
		setFlash(c, "warning", "company.flash.topup_failed")
	case he.Status == http.StatusConflict || he.Status == http.StatusServiceUnavailable:
		setFlash(c, "info", "company.flash.topup_not_paid")
	default:
		return err
	}
	redirect(c, "/azienda#topups")
	return nil
}

// companiesPage is /companies: the district's companies in aggregate, for supervisors.
func (s *Site) companiesPage(c *gin.Context) error {
	list, err := s.company.Aggregates(c.Request.Context(), httpx.CurrentUser(c))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "companies", view{Title: s.t(c, "company.list_title"), Nav: "companies", Data: list})
	return nil
}

// statementsPage is /companies/:id/statements: the statements, and the
// form to issue a past month's.
func (s *Site) statementsPage(c *gin.Context) error {
	return s.renderStatements(c, fieldView{}, nil, http.StatusOK)
}

func (s *Site) renderStatements(c *gin.Context, month fieldView, errs []summaryItem, status int) error {
	ctx, u, id := c.Request.Context(), httpx.CurrentUser(c), c.Param("id")
	list, err := s.company.Statements(ctx, u, id)
	if err != nil {
		return err
	}
	month.Name, month.ID, month.Label, month.Hint, month.Required = "month", "f-month", s.t(c, "company.form.month"),
		s.t(c, "company.form.month_hint"), true
	month.Extra = map[string]string{"inputmode": "numeric", "maxlength": "7"}
	s.render(c, status, "statements", view{Title: s.t(c, "company.statements"), Nav: companyNav(u), Errors: errs,
		Data: map[string]any{"ID": id, "List": list, "Month": month}})
	return nil
}

// statementIssueSubmit issues a past month's statement (or finds it) and shows it.
func (s *Site) statementIssueSubmit(c *gin.Context) error {
	month := fieldView{Value: strings.TrimSpace(c.PostForm("month"))}
	v, _, err := s.company.Issue(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), company.IssueRequest{Month: month.Value})
	if err != nil {
		he := httpx.From(err)
		if he.Status != http.StatusUnprocessableEntity || len(he.Fields) == 0 {
			return err
		}
		var errs []summaryItem
		for _, fe := range he.Fields {
			month.Error = fe.In(pageLang(c))
			errs = append(errs, summaryItem{Href: "#f-month", Text: s.t(c, "company.form.month") + ": " + month.Error})
		}
		return s.renderStatements(c, month, errs, he.Status)
	}
	redirect(c, "/companies/"+v.CompanyID+"/statements/"+v.Month)
	return nil
}

// statementPage is a statement and its invoice, printable; opening it is audited.
func (s *Site) statementPage(c *gin.Context) error {
	ctx, u, id, month := c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month")
	v, err := s.company.Statement(ctx, u, id, month)
	if err != nil {
		return err
	}
	if err := s.company.AuditStatementRead(ctx, u, id, month); err != nil {
		return err
	}
	s.render(c, http.StatusOK, "statement", view{Title: s.t(c, "company.statement.title", v.Month), Nav: companyNav(u),
		Crumbs: []crumb{{Href: "/companies/" + id + "/statements", Text: s.t(c, "company.statements")}},
		Data:   map[string]any{"S": v, "Rows": s.spendingCells(c, v.Spending)}})
	return nil
}

// statementCSVPage downloads a statement as CSV in the page's language.
func (s *Site) statementCSVPage(c *gin.Context) error {
	raw, name, err := s.company.StatementCSV(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month"), pageLang(c))
	return httpx.PrivateFile(c, "text/csv; charset=utf-8", raw, name, err)
}

// statementPDFPage downloads a statement and its invoice as a PDF in the page's language.
func (s *Site) statementPDFPage(c *gin.Context) error {
	raw, name, err := s.company.StatementPDF(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), c.Param("month"), pageLang(c))
	return httpx.PrivateFile(c, "application/pdf", raw, name, err)
}

// companyNav is the menu entry of the statement pages: the manager's
// company, or the supervisor's list of companies.
func companyNav(u store.UserView) string {
	if u.Role == roleSupervisor {
		return "companies"
	}
	return "company"
}
