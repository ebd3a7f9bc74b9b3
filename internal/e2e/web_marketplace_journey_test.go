package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/accounting"
	"sportello/internal/apicontract"
	"sportello/internal/bookingtest"
	"sportello/internal/calendar"
	"sportello/internal/payments"
	"sportello/internal/store"
	"sportello/internal/testenv"
	"sportello/worker"
	"sportello/workflows"
)

const journeySecret = "journey-test-secret"

// newMarketplaceStack is the saga stack wired as cmd/sportello wires
// production: one worker with the payment provider and the accounting
// system (an accounting sandbox that pays at once), and the real portal
// with the provider's client and secret, so that the provider's signed
// callbacks reach the API's own /api/v1/payments/callback and the payer
// comes back to the portal's return page.
func newMarketplaceStack(t *testing.T) (*sagaStack, *accounting.Server) {
	t.Helper()
	s := &sagaStack{stack: newStack(t)}
	s.stopWorker()
	s.startProvider(journeySecret)
	acc, accClient := testenv.Accounting(t, accounting.Options{PayAfter: 0})
	pay, err := payments.New(payments.Config{BaseURL: s.provider.URL, Secret: journeySecret})
	if err != nil {
		t.Fatal(err)
	}
	d := s.apiDeps()
	d.Payments, d.PaymentsSecret = pay, journeySecret
	s.srv.Close()
	s.srv = httptest.NewServer(apicontract.For(s.t, api.New(d)))
	s.portal = s.srv
	s.worker = worker.NewWith(s.tc, s.st, worker.Config{TaskQueue: s.taskQueue, PortalURL: s.srv.URL, Accounting: accClient, Payments: pay})
	if err := s.worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stopWorker)
	return s, acc
}

// The evidence, all through the pages on a real stack: a citizen
// with a service voucher buys Baobab's after-school service (two sessions)
// with a split payment, pays the online part on the provider's hosted page
// and comes back to a booking awaiting the cooperative; Baobab accepts with
// one date per session and records both deliveries; the citizen confirms
// them; the month's billing run invoices Tradate and the municipality pays;
// Baobab finds the paid invoice with one line per delivered session. The
// ledger sums to zero, Baobab was owed exactly the voucher shares and paid
// them out once. axe checks every page.
func TestWebMarketplaceJourney(t *testing.T) {
	s, acc := newMarketplaceStack(t)
	ctx := context.Background()
	var category string
	if err := s.st.Pool.QueryRow(ctx, `SELECT category FROM services WHERE cooperative_id = 'baobab' AND name = $1`,
		bookingtest.Service).Scan(&category); err != nil {
		t.Fatal(err)
	}
	bookingtest.ServiceVoucher(t, s.st, bookingtest.VoucherSpec{Username: "cittadino.tradate", Cents: 5000, Categories: []string{category}})

	// The citizen: cart, split checkout, payment on the provider's page.
	cz := loggedIn(t, s.srv.URL, "cittadino.tradate", "cittadino.tradate")
	cz.Navigate("/services?q=doposcuola")
	cz.Follow(bookingtest.Service)
	assertTitle(t, cz, bookingtest.Service)
	cz.Fill("Quantità (incontro)", "2")
	cz.Submit("Aggiungi al carrello")
	assertTitle(t, cz, "Carrello")
	cz.Follow("Prenota e paga")
	assertTitle(t, cz, "Prenota «"+bookingtest.Service+"»")
	cz.Axe()
	cz.FillSelector("#pay-split", "")
	cz.Fill("Parte pagata con il buono (€, solo pagamento misto)", "10,00")
	cz.Submit("Conferma la prenotazione")
	assertTitle(t, cz, "Pagamento della prenotazione")
	id := strings.TrimSuffix(strings.TrimPrefix(cz.Path(), "/bookings/"), "/pay")
	b, err := s.st.API().Booking(ctx, store.System, id)
	if err != nil {
		t.Fatalf("booking %q: %v", id, err)
	}
	if b.Quantity != 2 || b.VoucherCents != 1000 || b.OnlineCents <= 0 || b.VoucherCents+b.OnlineCents != b.TotalCents {
		t.Fatalf("booking %+v: not a split of two sessions", b)
	}
	payAtProvider(t, s, cz)
	if !strings.HasPrefix(cz.URL(), s.srv.URL+workflows.BookingPaymentReturnPath(id)) {
		t.Fatalf("after paying, at %s", cz.URL())
	}
	cz.ReloadUntil("the payment confirmed by the provider's callback", func() bool {
		return strings.Contains(cz.MainText(), "Pagamento ricevuto")
	})
	cz.Axe()
	cz.Navigate("/bookings/" + id)
	cz.ReloadUntil("the booking sent to the cooperative", func() bool {
		return cz.Text("#booking-status") == "Richiesta alla cooperativa"
	})
	assertText(t, cz, "Baobab", "in attesa di risposta", "pagato")
	cz.Axe()

	// The booking reads "requested" from the payment on, but the offer the
	// cooperative's inbox lists is written by the saga's next activity:
	// wait for it, as Baobab would see it a moment later.
	deadline := time.Now().Add(60 * time.Second)
	for s.count(`SELECT count(*) FROM booking_offers WHERE booking_id = $1 AND cooperative_id = 'baobab' AND outcome = 'pending'`, id) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("no pending offer to Baobab a minute after the booking was requested")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Baobab: the request in the inbox, accepted with a date per session,
	// both sessions recorded as delivered (now: never in the future).
	var number int64
	if err := s.st.Pool.QueryRow(ctx, `SELECT number FROM bookings WHERE id = $1`, id).Scan(&number); err != nil {
		t.Fatal(err)
	}
	n := strconv.FormatInt(number, 10)
	co := loggedIn(t, s.srv.URL, "coop.baobab", "coop.baobab")
	co.Follow("Prenotazioni")
	assertPage(t, co, "Prenotazioni ricevute", "Richieste da confermare", bookingtest.Service)
	co.FollowIn("table.coop-requests", n)
	assertTitle(t, co, "Prenotazione n. "+n)
	week := time.Now().Add(7 * 24 * time.Hour).In(calendar.Rome())
	co.Fill("Data della sessione 1", week.Format("2006-01-02T15:04"))
	co.Fill("Data della sessione 2", week.Add(7*24*time.Hour).Format("2006-01-02T15:04"))
	co.Submit("Conferma la prenotazione")
	assertText(t, co, "Prenotazione confermata: il cittadino è stato avvisato.")
	for seq := 1; seq <= 2; seq++ {
		co.Submit(fmt.Sprintf("Registra la sessione %d", seq))
		assertText(t, co, "Sessione registrata come svolta.")
		if got := co.Text(fmt.Sprintf(`tr[data-seq="%d"] .session-status`, seq)); got != "Svolta, da confermare" {
			t.Fatalf("session %d reads %q", seq, got)
		}
	}
	co.Axe()

	// The citizen confirms both deliveries; the booking is over.
	cz.Navigate("/bookings/" + id)
	assertText(t, cz, "Conferma gli incontri ricevuti")
	cz.Axe()
	cz.FillSelector("#seq-1", "true")
	cz.FillSelector("#seq-2", "true")
	cz.Submit("Conferma l'erogazione")
	assertText(t, cz, "Grazie: erogazione confermata.")
	if res := s.waitBooking(t, id); res.Status != workflows.BookingCompleted {
		t.Fatalf("booking ended %s", res.Status)
	}
	cz.Reload()
	if got := cz.Text("#booking-status"); got != "Conclusa" {
		t.Fatalf("the citizen reads %q", got)
	}
	cz.Axe()

	// A run bills the month before it starts, and this stack's Temporal
	// clock cannot be moved to next month: the confirmations (timestamps
	// only; no money moves) are dated one month back, as if this were the
	// next month's run of billing:cooperative:baobab:tradate.
	if _, err := s.st.Pool.Exec(ctx, `UPDATE booking_sessions SET delivered_at = delivered_at - interval '1 month',
		confirmed_at = confirmed_at - interval '1 month' WHERE booking_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	run := s.startBilling("journey-billing-baobab-tradate", workflows.BillingInput{Kind: store.InvoiceCooperative, PayeeID: "baobab", Municipality: "tradate"})
	res := billingResult(t, run)
	if res.Status != store.InvoicePaid || len(acc.Invoices()) != 1 {
		t.Fatalf("billing run %+v, %d invoices at the accounting system", res, len(acc.Invoices()))
	}

	// Baobab finds the invoice paid, one line per delivered session.
	co.Follow("Fatture e rimborsi")
	assertTitle(t, co, "Le nostre fatture")
	if got := co.Texts("table.invoices td.status"); len(got) != 1 || got[0] != "Pagata" {
		t.Fatalf("invoice statuses %v", got)
	}
	co.Axe()
	noSidewaysScroll(t, co)
	co.ClickAndWait("table.invoices a")
	assertTitle(t, co, "Fattura n.")
	assertText(t, co, bookingtest.Service, "Prenotazione n. "+n, "unità 1 di 2", "unità 2 di 2", "Pagata il")
	if got := co.Text("#inv-status"); got != "Pagata" {
		t.Fatalf("invoice status %q", got)
	}
	if rows := co.Count("table.invoice-lines tbody tr"); rows != 2 {
		t.Fatalf("%d invoice lines, want the two delivered sessions", rows)
	}
	co.Axe()

	s.assertBooksBalance()
	if n := s.count(`SELECT count(*) FROM invoice_lines l JOIN booking_sessions x ON x.id = l.session_id
		WHERE x.booking_id = $1 AND l.amount_cents = x.voucher_cents`, id); n != 2 {
		t.Errorf("%d invoice lines of the booking's sessions at their voucher share, want 2", n)
	}
	var posted, payouts, paidOut int64
	if err := s.st.Pool.QueryRow(ctx, `SELECT coalesce(sum(amount_cents) FILTER (WHERE kind = 'post' AND to_account = $1), 0),
		count(*) FILTER (WHERE kind = 'payout' AND from_account = $1), coalesce(sum(amount_cents) FILTER (WHERE kind = 'payout' AND from_account = $1), 0)
		FROM transfers`, store.CooperativeAccountID("baobab")).Scan(&posted, &payouts, &paidOut); err != nil {
		t.Fatal(err)
	}
	if posted != b.VoucherCents || payouts != 1 || paidOut != b.VoucherCents {
		t.Errorf("Baobab was owed %d (want the voucher shares %d) and paid out %d times, %d in all", posted, b.VoucherCents, payouts, paidOut)
	}
	if got := testenv.Balance(t, s.st, store.CooperativeAccountID("baobab")); got != 0 {
		t.Errorf("Baobab's account holds %d after the payout", got)
	}
	if got := testenv.Balance(t, s.st, store.CooperativeOnlineAccountID("baobab")); got != b.OnlineCents {
		t.Errorf("Baobab earned %d online, want %d", got, b.OnlineCents)
	}
}
