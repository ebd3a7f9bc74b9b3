package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sportello/internal/accounting"
	"sportello/internal/browsertest"
	"sportello/internal/store"
	"sportello/workflows"
)

// In the browser: the cooperative finds its invoice of last month (lines,
// status, PDF), the merchant signs the self-declaration of its claim (first
// with a statement left out: errors at the fields), and after the
// municipality pays the supervisor sees both paid, in Italian and English.
// axe checks every page; the cooperative's pages on a phone too.
func TestWebInvoices(t *testing.T) {
	s, acc := billingStack(t, accounting.Options{PayAfter: -1})
	f := newBillingFixture(t, s.st)
	b, ss := f.book(3, 1800)
	f.confirm(b, ss[0], lastMonth(4))
	f.confirm(b, ss[1], lastMonth(18))
	f.redeem(2200, lastMonth(7))
	coopRun := s.startBilling("web-billing-coop", workflows.BillingInput{Kind: store.InvoiceCooperative, PayeeID: "baobab", Municipality: "tradate"})
	merchantRun := s.startBilling("web-billing-merchant", workflows.BillingInput{Kind: store.InvoiceMerchant, PayeeID: f.merchant, Municipality: "tradate"})

	var inv, claim store.InvoiceView
	eventually(t, "the invoice sent and the claim made", func() bool {
		items, _, err := s.st.API().Invoices(context.Background(), store.System, store.InvoiceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range items {
			if v.Kind == store.InvoiceCooperative {
				inv = v
			} else {
				claim = v
			}
		}
		return inv.Status == store.InvoiceSent && claim.ID != ""
	})

	co := browsertest.NewPage(t, s.srv.URL, "coop.baobab")
	co.Phone()
	webLogin(t, co, "coop.baobab")
	co.Follow("Fatture e rimborsi")
	assertPage(t, co, "Le nostre fatture", "36,00", "Inviata, in attesa di pagamento")
	noSidewaysScroll(t, co)
	co.ClickAndWait(fmt.Sprintf(`tr[data-invoice="%d"] a`, inv.Number))
	assertTitle(t, co, fmt.Sprintf("Fattura n. %d", inv.Number))
	assertText(t, co, "Tradate", f.serviceName, "unità 1 di 3", "unità 2 di 3", "Protocollo della ragioneria")
	if n := co.Count("table.invoice-lines tbody tr"); n != 2 {
		t.Fatalf("%d lines, want the two confirmed sessions", n)
	}
	if href := co.Attr(`a[href$="/pdf"]`, "href"); href != "/invoices/"+inv.ID+"/pdf" {
		t.Fatalf("PDF link %q", href)
	}
	co.Axe()
	noSidewaysScroll(t, co)
	if st := co.NavigateStatus("/invoices/" + claim.ID); st != http.StatusNotFound {
		t.Fatalf("the cooperative opened a merchant's claim: %d", st)
	}

	me := loggedIn(t, s.srv.URL, "esercente.tradate", "esercente.tradate")
	me.Follow("Fatture e rimborsi")
	assertPage(t, me, "Rimborsi dei buoni spesa", "In attesa dell'autodichiarazione", "22,00")
	me.ClickAndWait(fmt.Sprintf(`tr[data-invoice="%d"] a`, claim.Number))
	assertTitle(t, me, fmt.Sprintf("Richiesta di rimborso n. %d", claim.Number))
	assertText(t, me, "Autodichiarazione dell'esercente", "Buono spesa riscattato")
	if strings.Contains(me.MainText(), "Maria") || strings.Contains(me.MainText(), f.code) {
		t.Fatalf("the merchant's claim shows the citizen or the voucher code:\n%s", me.MainText())
	}
	me.Axe()
	for _, k := range store.DeclarationItems[:3] {
		me.FillSelector("#decl-"+k, "true")
	}
	me.Submit("Firma la dichiarazione")
	if !me.Has("#error-summary") ||
		!me.Has(`#decl-redemptions_genuine[aria-invalid="true"]`) || me.Has(`#decl-essentials_only[aria-invalid="true"]`) {
		t.Fatalf("an incomplete declaration:\n%s", me.MainText())
	}
	me.Axe()
	me.FillSelector("#decl-redemptions_genuine", "true")
	me.Submit("Firma la dichiarazione")
	assertText(t, me, "Dichiarazione firmata: la richiesta di rimborso sarà inviata al comune.")
	me.ReloadUntil("the claim sent", func() bool { return strings.Contains(me.Text("#inv-status"), "Inviata") })
	assertText(t, me, "Dichiarazione firmata il")
	me.Axe()

	// The municipality pays both; the runs reconcile.
	for _, r := range acc.Invoices() {
		if _, ok := acc.Pay(r.ID); !ok {
			t.Fatalf("pay %s", r.ID)
		}
	}
	if res := billingResult(t, coopRun); res.Status != store.InvoicePaid {
		t.Fatalf("cooperative run %+v", res)
	}
	if res := billingResult(t, merchantRun); res.Status != store.InvoicePaid {
		t.Fatalf("merchant run %+v", res)
	}

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.Follow("Fatture e rimborsi")
	assertTitle(t, sup, "Fatture e rimborsi")
	assertText(t, sup, "Baobab", "Farmacia", "Fattura", "Rimborso")
	if got := sup.Texts("table.invoices td.status"); len(got) != 2 || got[0] != "Pagata" || got[1] != "Pagata" {
		t.Fatalf("statuses %v", got)
	}
	sup.Axe()
	sup.ClickAndWait(fmt.Sprintf(`tr[data-invoice="%d"] a`, inv.Number))
	assertText(t, sup, "Pagata il", "Riferimento del pagamento")
	sup.Axe()
	sup.Navigate("/lang/en?next=/invoices")
	assertPage(t, sup, "Invoices and reimbursements", "Paid", "Reimbursement")
	s.assertBooksBalance()
}
