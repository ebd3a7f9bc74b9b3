package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/billing"
	"sportello/internal/store"
)

// The billing pages (issue 5): "Fatture" for cooperatives (their invoices
// to the municipalities), "Rimborsi" for merchants (their monthly claims,
// where they sign the self-declaration), and both for supervisors of the
// district, each with its lines, status and PDF.

func init() {
	addMessages(billingMessages)
	registerPages(func(s *server, p *pageRouter) {
		r := p.Role(roleCooperative, roleMerchant, roleSupervisor)
		r.GET("/invoices", s.page(s.invoicesPage))
		r.GET("/invoices/:id", s.page(s.invoicePage))
		r.GET("/invoices/:id/pdf", s.page(s.invoicePDFPage))
		p.Role(roleMerchant).POST("/invoices/:id/declaration", s.page(s.declarationSubmit))
	})
}

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

func (s *server) invoicesPage(c *gin.Context) error {
	u := currentUser(c)
	items, total, err := s.api.Invoices(c.Request.Context(), u.Scope(), store.InvoiceFilter{Limit: 100})
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

func (s *server) invoicePage(c *gin.Context) error {
	v, err := s.invoice(c, "read_invoice")
	if err != nil {
		return err
	}
	return s.renderInvoice(c, http.StatusOK, v, nil, nil)
}

func (s *server) renderInvoice(c *gin.Context, status int, v store.InvoiceView, checked map[string]bool, fe []FieldError) error {
	lang := pageLang(c)
	idx := 0
	if lang == langEN {
		idx = 1
	}
	d := invoiceData{Inv: v, Period: monthLabel(lang, v.Period),
		CanDeclare: currentUser(c).Role == roleMerchant && v.Status == store.InvoiceAwaitingDeclaration}
	var errs []summaryItem
	for _, k := range store.DeclarationItems {
		if v.Declaration[k] {
			d.Declared = append(d.Declared, billing.Declaration[k][idx])
		}
		item := declarationItem{Key: k, Text: billing.Declaration[k][idx], Checked: checked[k]}
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
		Crumbs: []crumb{{"/invoices", s.t(c, invoicesTitle(currentUser(c).Role))}}})
	return nil
}

func (s *server) invoicePDFPage(c *gin.Context) error { return s.invoicePDF(c) }

func (s *server) declarationSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	u := currentUser(c)
	checked := map[string]bool{}
	for _, k := range store.DeclarationItems {
		checked[k] = c.PostForm(k) == "yes"
	}
	_, err := s.declare(ctx, u, c.Param("id"), checked)
	var he *httpError
	switch {
	case err == nil:
		setFlash(c, "success", "inv.declared")
		redirect(c, "/invoices/"+c.Param("id"))
		return nil
	case errors.As(err, &he) && he.status == http.StatusUnprocessableEntity:
		v, rerr := s.api.Invoice(ctx, u.Scope(), c.Param("id"))
		if rerr != nil {
			return rerr
		}
		return s.renderInvoice(c, http.StatusUnprocessableEntity, v, checked, he.fields)
	case errors.As(err, &he) && he.status == http.StatusConflict:
		setFlash(c, "danger", "inv.already_declared")
		redirect(c, "/invoices/"+c.Param("id"))
		return nil
	}
	return err
}

var billingMessages = map[string]msg{
	"nav.invoices":                    {"Fatture e rimborsi", "Invoices and reimbursements"},
	"inv.title.cooperative":           {"Le nostre fatture", "Our invoices"},
	"inv.title.merchant":              {"Rimborsi dei buoni spesa", "Food-voucher reimbursements"},
	"inv.title.supervisor":            {"Fatture e rimborsi", "Invoices and reimbursements"},
	"inv.intro.cooperative":           {"Ogni mese la cooperativa fattura a ciascun comune le sessioni pagate con buono, consegnate e confermate. La fattura è inviata alla ragioneria del comune e il pagamento è registrato appena arriva.", "Every month the cooperative invoices each municipality for the voucher-paid sessions delivered and confirmed. The invoice goes to the municipality's accounting office and the payment is recorded as soon as it arrives."},
	"inv.intro.merchant":              {"Ogni mese i buoni spesa riscattati alla vostra cassa diventano una richiesta di rimborso al comune. Prima dell'invio firmate l'autodichiarazione: non servono gli scontrini degli acquisti.", "Every month the food vouchers redeemed at your till become a reimbursement claim to the municipality. Sign the self-declaration before it is sent: no receipts of the purchases are needed."},
	"inv.intro.supervisor":            {"Fatture delle cooperative e richieste di rimborso degli esercenti del distretto, con il loro stato.", "The district's cooperative invoices and merchant reimbursement claims, with their status."},
	"inv.none":                        {"Non ci sono ancora fatture né rimborsi.", "There are no invoices or claims yet."},
	"inv.caption":                     {"Documenti, dal mese più recente (%d in tutto)", "Documents, latest month first (%d in all)"},
	"inv.col.number":                  {"Numero", "Number"},
	"inv.col.kind":                    {"Tipo", "Type"},
	"inv.col.payee":                   {"Emessa da", "Issued by"},
	"inv.col.municipality":            {"Comune", "Municipality"},
	"inv.col.period":                  {"Mese", "Month"},
	"inv.col.lines":                   {"Righe", "Lines"},
	"inv.col.total":                   {"Totale", "Total"},
	"inv.col.status":                  {"Stato", "Status"},
	"inv.kind.cooperative":            {"Fattura", "Invoice"},
	"inv.kind.merchant":               {"Rimborso", "Reimbursement"},
	"inv.open":                        {"Apri n. %d", "Open no. %d"},
	"inv.invoice":                     {"Fattura n. %d", "Invoice no. %d"},
	"inv.claim":                       {"Richiesta di rimborso n. %d", "Reimbursement claim no. %d"},
	"inv.status.awaiting_declaration": {"In attesa dell'autodichiarazione", "Awaiting the self-declaration"},
	"inv.status.ready":                {"Pronta per l'invio", "Ready to send"},
	"inv.status.sent":                 {"Inviata, in attesa di pagamento", "Sent, awaiting payment"},
	"inv.status.paid":                 {"Pagata", "Paid"},
	"inv.details":                     {"Dati del documento", "Document details"},
	"inv.sent_at":                     {"Inviata alla ragioneria", "Sent to accounting"},
	"inv.accounting_id":               {"Protocollo della ragioneria", "Accounting reference"},
	"inv.paid_at":                     {"Pagata il", "Paid on"},
	"inv.payment_ref":                 {"Riferimento del pagamento", "Payment reference"},
	"inv.pdf":                         {"Scarica il PDF", "Download the PDF"},
	"inv.lines":                       {"Righe", "Lines"},
	"inv.lines_caption":               {"Una riga per sessione o per buono riscattato", "One line per session or redeemed voucher"},
	"inv.col.seq":                     {"N.", "No."},
	"inv.col.date":                    {"Data", "Date"},
	"inv.col.description":             {"Descrizione", "Description"},
	"inv.col.amount":                  {"Importo", "Amount"},
	"inv.decl.title":                  {"Autodichiarazione dell'esercente", "Merchant's self-declaration"},
	"inv.decl.intro":                  {"Confermate ogni voce: la richiesta parte solo dopo la firma. Non si allegano scontrini né dati su cosa hanno comprato i cittadini.", "Confirm every statement: the claim is sent only once signed. No receipts and no data on what citizens bought are attached."},
	"inv.decl.legend":                 {"Dichiaro che", "I declare that"},
	"inv.decl.submit":                 {"Firma la dichiarazione", "Sign the declaration"},
	"inv.decl.required":               {"Confermate questa voce per firmare", "Confirm this statement to sign"},
	"inv.decl.signed":                 {"Dichiarazione firmata il %s", "Declaration signed on %s"},
	"inv.declared":                    {"Dichiarazione firmata: la richiesta di rimborso sarà inviata al comune.", "Declaration signed: the claim will be sent to the municipality."},
	"inv.already_declared":            {"Questa richiesta non attende una dichiarazione.", "This claim does not await a declaration."},
}
