package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/bookingtest"
	"sportello/internal/seed"
	"sportello/internal/store"
)

// In the browser (issue 15): the demo employee, Maria Rossi
// (cittadino.tradate, enrolled in Meccanica Tradatese's plan), checks out 3
// sessions of the after-school service with her company credit (10,01 €
// left), a service voucher (10,01 €) and the rest online: the checkout page
// shows the credit and the split (a split other than the one shown, here
// after choosing no voucher, is shown again to confirm, never booked), she pays the online part at the provider
// and cancels; the booking page then shows each funder given back exactly
// its part. axe checks every page, at a phone's width, in Italian and
// English.
func TestWebMultiFunderCheckoutAndCancel(t *testing.T) {
	s, _ := newMarketplaceStack(t)
	ctx := context.Background()
	var employee string
	if err := s.st.Pool.QueryRow(ctx, `SELECT id::text FROM company_employees WHERE tax_code = $1 AND status = 'enrolled'`,
		seed.DemoCompanyEmployees()[0]).Scan(&employee); err != nil {
		t.Fatal(err)
	}
	if err := s.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		have, err := store.Balance(ctx, tx, store.CompanyCreditAccountID(employee))
		if err != nil {
			return err
		}
		_, _, err = store.Transfer(ctx, tx, store.TransferInput{Key: "e2e-spend:" + employee, From: store.CompanyCreditAccountID(employee),
			To: store.CompanyAccountID(seed.DemoCompanyID), Amount: have - 1001, Kind: store.TransferRevoke})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	voucher := bookingtest.ServiceVoucher(t, s.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 1001})

	cz := loggedIn(t, s.srv.URL, "cittadino.tradate", "cittadino.tradate")
	cz.Phone()
	cz.Navigate("/services?q=doposcuola")
	cz.Follow("Doposcuola e aiuto compiti")
	cz.Fill("Quantità (incontro)", "3")
	cz.Submit("Aggiungi al carrello")
	cz.Follow("Prenota e paga")
	assertTitle(t, cz, "Prenota «Doposcuola e aiuto compiti»")
	assertText(t, cz, "Credito welfare aziendale", "Meccanica Tradatese S.r.l.", "disponibili 10,01 €", "Ripartizione del pagamento")
	if got := cz.Text("#split-company"); got != "10,01 €" {
		t.Fatalf("company part shown %q", got)
	}
	if got := cz.Text("#split-voucher"); got != "10,01 €" {
		t.Fatalf("voucher part shown %q", got)
	}
	online := cz.Text("#split-online")
	cz.Screenshot("checkout-funders")
	cz.Axe()
	noSidewaysScroll(t, cz)
	// Without a voucher the split is another one than the page showed: the
	// page shows the new split for her to confirm, nothing is booked.
	cz.FillSelector("#pay-funders", "")
	cz.FillSelector("#voucher-none", "")
	cz.Submit("Conferma la prenotazione")
	if !cz.Has("#checkout-problem") || !strings.Contains(cz.Text("#checkout-problem"), "non è più quella mostrata") {
		t.Fatalf("a split other than the one shown was booked:\n%s", cz.MainText())
	}
	if got := cz.Text("#split-voucher"); got != "0,00 €" {
		t.Fatalf("voucher part shown without a voucher %q", got)
	}
	cz.Axe()
	// Back to the voucher: shown again, then confirmed.
	cz.FillSelector("#pay-funders", "")
	cz.FillSelector("#voucher-0", "")
	cz.Submit("Conferma la prenotazione")
	if got := cz.Text("#split-voucher"); got != "10,01 €" || cz.Text("#split-online") != online {
		t.Fatalf("split shown again: voucher %q, online %q", got, cz.Text("#split-online"))
	}
	cz.Submit("Conferma la prenotazione")
	assertPage(t, cz, "Pagamento della prenotazione", "Da pagare online", online)
	id := strings.TrimSuffix(strings.TrimPrefix(cz.Path(), "/bookings/"), "/pay")
	b, err := s.st.API().Booking(ctx, store.System, id)
	if err != nil {
		t.Fatalf("booking %s: %v", id, err)
	}
	if b.CompanyCents != 1001 || b.VoucherCents != 1001 || b.OnlineCents != b.TotalCents-2002 || b.VoucherID != voucher {
		t.Fatalf("booking %+v", b)
	}

	deadline := time.Now().Add(20 * time.Second)
	for !strings.HasPrefix(cz.URL(), s.provider.URL) {
		if time.Now().After(deadline) {
			t.Fatalf("still at %s: the pay page did not move to the provider", cz.URL())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cz.WaitVisible("button.pay")
	cz.Submit("Pay")
	assertText(t, cz, "Pagamento ricevuto")

	cz.Navigate("/bookings/" + id)
	assertPage(t, cz, "Prenotazione n.", "Parte con il credito aziendale", "Meccanica Tradatese S.r.l.", "Parte con il buono",
		"la parte pagata con il credito aziendale torna al credito")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.FillSelector("#reason", "Cambio di programma")
	cz.Submit("Annulla la prenotazione")
	assertText(t, cz, "Prenotazione annullata.")
	// The voucher's and the company's parts go back at once; the online
	// part once the provider has refunded it.
	deadline = time.Now().Add(30 * time.Second)
	for {
		v, err := s.st.API().Booking(ctx, store.System, id)
		if err == nil && v.PaymentStatus == store.PaymentRefunded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the online part was not refunded: %+v, %v", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cz.Navigate("/bookings/" + id)
	assertPage(t, cz, "Prenotazione n.", "Restituito per gli incontri annullati")
	for sel, want := range map[string]string{
		"#returned-company": "al credito aziendale: 10,01 €",
		"#returned-voucher": "al buono: 10,01 €",
		"#returned-online":  "rimborso online: " + online,
	} {
		if got := cz.Text(sel); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	cz.Screenshot("cancelled-funders-refunded")
	cz.Axe()
	for acc, want := range map[string]int64{store.CompanyCreditAccountID(employee): 1001, store.VoucherAccountID(voucher): 1001} {
		v, err := store.Balance(ctx, s.st.Pool, acc)
		if err != nil || v != want {
			t.Errorf("%s: %d (%v), want %d", acc, v, err, want)
		}
	}
	if msg, err := store.LedgerCheck(ctx, s.st.Pool); err != nil || msg != "" {
		t.Fatalf("ledger: %q %v", msg, err)
	}

	cz.Navigate("/lang/en?next=/bookings/" + id)
	assertPage(t, cz, "Booking no.", "Company credit part", "Given back for the cancelled sessions", "to the company credit: €10.01")
	cz.Axe()
}
