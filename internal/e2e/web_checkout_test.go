package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/bookingtest"
	"sportello/internal/browsertest"
	"sportello/internal/store"
	"sportello/workflows"
)

// In the browser: a citizen with a service voucher adds a service to the
// cart from its page, changes the quantity (a wrong one refused at the
// field), checks out with a split payment (a voucher part above the
// balance refused first) and lands on the pay page, which waits. When the
// payment is ready (the Booking workflow creates it at the sandbox
// provider) the page moves by itself to the provider's hosted page; paying there brings the citizen
// back to the outcome page. The bookings list and detail show the money.
// axe checks every page, all at a phone's width.
func TestWebCartCheckoutSplit(t *testing.T) {
	s, cz, _ := afterSchoolShopper(t, 2500)
	ctx := context.Background()
	assertTitle(t, cz, "Doposcuola e aiuto compiti")
	cz.Axe()
	cz.Fill("Quantità (incontro)", "2")
	cz.Submit("Aggiungi al carrello")
	assertPage(t, cz, "Carrello", "«Doposcuola e aiuto compiti» è nel carrello.", "Rimuovi dal carrello")
	noSidewaysScroll(t, cz)
	cz.Fill("Quantità", "0")
	cz.Submit("Aggiorna la quantità")
	if !cz.Has("#error-summary") || !cz.Has(`input[name="quantity"][aria-invalid="true"]`) {
		t.Fatalf("quantity 0 accepted:\n%s", cz.MainText())
	}
	cz.Axe()
	cz.Fill("Quantità", "3")
	cz.Submit("Aggiorna la quantità")
	assertText(t, cz, "Quantità aggiornata.")

	cz.Follow("Prenota e paga")
	assertTitle(t, cz, "Prenota «Doposcuola e aiuto compiti»")
	total := cz.Text("#checkout-total")
	assertText(t, cz, "Come vuoi pagare?", "Buono servizi di prova", "disponibili 25,00 €")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.FillSelector("#pay-split", "")
	cz.Fill("Parte pagata con il buono (€, solo pagamento misto)", "30,00")
	cz.Submit("Conferma la prenotazione")
	if !cz.Has("#checkout-problem") || !strings.Contains(cz.Text("#checkout-problem"), "credito sufficiente") {
		t.Fatalf("voucher part above the balance:\n%s", cz.MainText())
	}
	cz.Axe()
	cz.FillSelector("#pay-split", "")
	cz.Fill("Parte pagata con il buono (€, solo pagamento misto)", "10,00")
	cz.Submit("Conferma la prenotazione")
	assertPage(t, cz, "Pagamento della prenotazione", "Da pagare online", "Stiamo preparando il pagamento")
	noSidewaysScroll(t, cz)
	id := strings.TrimSuffix(strings.TrimPrefix(cz.Path(), "/bookings/"), "/pay")
	b, err := s.st.API().Booking(ctx, store.System, id)
	if err != nil {
		t.Fatalf("booking %s: %v", id, err)
	}
	if b.VoucherCents != 1000 || b.OnlineCents != b.TotalCents-1000 || b.Quantity != 3 || b.Status != workflows.BookingAwaitingPayment {
		t.Fatalf("booking %+v (total shown %s)", b, total)
	}

	payAtProvider(t, s, cz)
	assertTitle(t, cz, "Pagamento")
	if !strings.Contains(cz.Path(), "/return") {
		t.Fatalf("back at %s", cz.URL())
	}
	assertText(t, cz, "Pagamento ricevuto", "Doposcuola e aiuto compiti")
	cz.Axe()

	cz.Navigate("/bookings")
	assertTitle(t, cz, "Le mie prenotazioni")
	cz.Axe()
	noSidewaysScroll(t, cz)
	cz.Follow("n. ")
	assertPage(t, cz, "Prenotazione n.", "Parte con il buono", "10,00 €", "ancora accantonati", "Incontri", "da fissare", "Annulla la prenotazione")
	noSidewaysScroll(t, cz)

	cz.Navigate("/lang/en?next=/cart")
	assertPage(t, cz, "Cart", "Your cart is empty.")
}

// afterSchoolShopper starts the marketplace stack, gives the demo citizen
// (cittadino.tradate, also the demo company's employee) a service voucher
// of voucherCents and opens, signed in at a phone's width, the page of the
// after-school service ("Doposcuola e aiuto compiti"). It returns the
// stack, the page and the voucher's id.
func afterSchoolShopper(t *testing.T, voucherCents int64) (*sagaStack, *browsertest.Page, string) {
	t.Helper()
	s, _ := newMarketplaceStack(t)
	voucher := bookingtest.ServiceVoucher(t, s.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: voucherCents})
	cz := loggedIn(t, s.srv.URL, "cittadino.tradate", "cittadino.tradate")
	cz.Phone()
	cz.Navigate("/services?q=doposcuola")
	cz.Follow("Doposcuola e aiuto compiti")
	return s, cz, voucher
}

// payAtProvider waits on the booking's pay page until it moves by itself
// to the provider's hosted page (the Booking workflow creates the payment
// there), then pays. The limit only guards against a hang.
func payAtProvider(t *testing.T, s *sagaStack, cz *browsertest.Page) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.HasPrefix(cz.URL(), s.provider.URL) {
		if time.Now().After(deadline) {
			t.Fatalf("still at %s: the pay page did not move to the provider", cz.URL())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cz.WaitVisible("button.pay")
	cz.Submit("Pay")
}

// waitSplit waits until the checkout's split shows want for the voucher
// (#split-voucher): htmx replaces it when the choice changes. It returns
// the company and online parts shown with it.
func waitSplit(t *testing.T, cz *browsertest.Page, want string) (company, online string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for cz.Text("#split-voucher") != want {
		if time.Now().After(deadline) {
			t.Fatalf("the split shown did not change: voucher part %q, want %q", cz.Text("#split-voucher"), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cz.Text("#split-company"), cz.Text("#split-online")
}
