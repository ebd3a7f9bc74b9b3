package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/bookingtest"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// In the browser (issue 15): the demo employee, Maria Rossi
// (cittadino.tradate, enrolled in Meccanica Tradatese's plan), checks out 3
// sessions of the after-school service with her company credit (10,01 €
// left), a service voucher (10,01 €) and the rest online: the checkout page
// shows the credit and the split, and when she chooses no voucher, then the
// voucher again, the split changes in place before she confirms (htmx asks
// the server for it, in a polite live region), in Italian and English; she
// confirms the split shown, pays the online part at the provider and
// cancels; the booking page then shows each funder given back exactly its
// part. axe checks every page, at a phone's width, in Italian and English.
func TestWebMultiFunderCheckoutAndCancel(t *testing.T) {
	s, cz, voucher := afterSchoolShopper(t, 1001)
	ctx := context.Background()
	employee := bookingtest.CompanyCreditLeft(t, s.st, 1001)

	cz.Fill("Quantità (incontro)", "3")
	cz.Submit("Aggiungi al carrello")
	cz.Follow("Prenota e paga")
	checkout := cz.Path()
	assertTitle(t, cz, "Prenota «Doposcuola e aiuto compiti»")
	assertText(t, cz, "Credito welfare aziendale", "Meccanica Tradatese S.r.l.", "disponibili 10,01 €", "Ripartizione del pagamento",
		"Nulla è ancora addebitato")
	if got := cz.Text("#split-company"); got != "10,01 €" {
		t.Fatalf("company part shown %q", got)
	}
	if got := cz.Text("#split-voucher"); got != "10,01 €" {
		t.Fatalf("voucher part shown %q", got)
	}
	if got := cz.Attr("#split-live", "aria-live"); got != "polite" {
		t.Fatalf("the split is not in a polite live region: aria-live %q", got)
	}
	online := cz.Text("#split-online")
	cz.Screenshot("checkout-funders")
	cz.Axe()
	noSidewaysScroll(t, cz)
	// Choosing no voucher shows the new split in place, before confirming,
	// the page not reloaded; the voucher again shows the first split.
	cz.FillSelector("#pay-funders", "")
	cz.FillSelector("#voucher-none", "")
	company, onlineAlone := waitSplit(t, cz, "0,00 €")
	if company != "10,01 €" || onlineAlone == online || cz.Path() != checkout {
		t.Fatalf("split without a voucher: company %q, online %q (with the voucher %q), at %s", company, onlineAlone, online, cz.URL())
	}
	if !cz.Has("#pay-funders:checked") {
		t.Fatal("the payment choice was lost when the split changed")
	}
	cz.Axe()
	cz.FillSelector("#voucher-0", "")
	if company, got := waitSplit(t, cz, "10,01 €"); company != "10,01 €" || got != online {
		t.Fatalf("split with the voucher again: company %q, online %q, want %q", company, got, online)
	}

	// The same in English.
	cz.Navigate("/lang/en?next=" + checkout)
	assertPage(t, cz, "Book «Doposcuola e aiuto compiti»", "Company welfare credit", "How the payment is split", "Nothing is charged yet")
	cz.FillSelector("#pay-funders", "")
	cz.FillSelector("#voucher-none", "")
	_, onlineAloneEN := waitSplit(t, cz, "€0.00")
	cz.Axe()
	cz.FillSelector("#voucher-0", "")
	_, onlineEN := waitSplit(t, cz, "€10.01")
	cz.Navigate("/lang/it?next=" + checkout)

	// She confirms the split shown: with the voucher.
	cz.FillSelector("#pay-funders", "")
	cz.FillSelector("#voucher-none", "")
	waitSplit(t, cz, "0,00 €")
	cz.FillSelector("#voucher-0", "")
	waitSplit(t, cz, "10,01 €")
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
	// The splits shown were the rule's, in each language.
	for _, c := range [][2]string{
		{online, i18n.Money(i18n.IT, b.TotalCents-2002)}, {onlineAlone, i18n.Money(i18n.IT, b.TotalCents-1001)},
		{onlineEN, i18n.Money(i18n.EN, b.TotalCents-2002)}, {onlineAloneEN, i18n.Money(i18n.EN, b.TotalCents-1001)},
	} {
		if c[0] != c[1] {
			t.Errorf("online part shown %q, want %q", c[0], c[1])
		}
	}

	payAtProvider(t, s, cz)
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
	deadline := time.Now().Add(30 * time.Second)
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
