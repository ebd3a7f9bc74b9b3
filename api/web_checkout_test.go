package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
	"sportello/workflows"
)

// Without JavaScript: the checkout form posts, the pay page refreshes
// itself (meta refresh inside noscript) and, once the workflow stored the
// provider's page, the refresh is redirected there; the htmx poll answers
// 204 while waiting and HX-Redirect afterwards. A checkout refused at the
// field comes back as 422 with the error at the field; another citizen
// gets 404 for the pages of this booking.
func TestWebCheckoutAndPayPageWithoutJS(t *testing.T) {
	e := newCheckoutEnv(t, false)
	const cz = "cittadino.tradate"
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 1500})
	svc := strconv.FormatInt(bookingtest.ServiceID(t, e.st, "Doposcuola e aiuto compiti"), 10)
	b := e.browser()
	b.login(cz)
	p := b.post("/cart/items", url.Values{"service_id": {svc}, "quantity": {"2"}})
	if p.status != http.StatusSeeOther || p.location != "/cart" {
		t.Fatalf("add: %d %s", p.status, p.location)
	}
	expectPage(t, b.get("/cart"), 200, "Doposcuola e aiuto compiti", "Prenota e paga")
	expectPage(t, b.get("/cart/items/"+svc+"/checkout"), 200, `value="`+voucher+`"`, "disponibili 15,00 €")
	p = b.post("/cart/items/"+svc+"/checkout", url.Values{"payment": {"split"}, "voucher_id": {voucher}, "voucher_part": {"abc"}, "key": {"form-1"}})
	expectPage(t, p, 422, `id="voucher-part"`, `aria-invalid="true"`, "error-summary")
	p = b.post("/cart/items/"+svc+"/checkout", url.Values{"payment": {"split"}, "voucher_id": {voucher}, "voucher_part": {"5,00"}, "key": {"form-1"}})
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/pay") {
		t.Fatalf("checkout: %d %s\n%s", p.status, p.location, p.body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(p.location, "/bookings/"), "/pay")
	// The same form posted twice books once.
	p2 := b.post("/cart/items/"+svc+"/checkout", url.Values{"payment": {"split"}, "voucher_id": {voucher}, "voucher_part": {"5,00"}, "key": {"form-1"}})
	if p2.location != p.location {
		t.Fatalf("second post went to %s, first to %s", p2.location, p.location)
	}
	refresh := `<noscript><meta http-equiv="refresh" content="3;url=/bookings/` + id + `/pay?go=1"></noscript>`
	expectPage(t, b.get(p.location), 200, refresh, "Stiamo preparando il pagamento")
	if p := b.get(p.location + "?go=1"); p.status != 200 {
		t.Fatalf("go before the payment exists: %d", p.status)
	}
	if p := b.get(p.location+"/status", hdr{"HX-Request": "true"}); p.status != http.StatusNoContent {
		t.Fatalf("poll while waiting: %d", p.status)
	}
	const provider = "http://provider.test/pay/pi_1"
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE bookings SET payment_url = $2 WHERE id = $1`, id, provider); err != nil {
		t.Fatal(err)
	}
	if p := b.get(p.location + "?go=1"); p.status != http.StatusSeeOther || p.location != provider {
		t.Fatalf("go: %d %s", p.status, p.location)
	}
	if p := b.get(p.location+"/status", hdr{"HX-Request": "true"}); p.status != 200 || p.header.Get("HX-Redirect") != provider {
		t.Fatalf("poll when ready: %d %v", p.status, p.header)
	}
	expectPage(t, b.get("/bookings/"+id+"/return?status=canceled&payment_id=pi_1"), 200, "Pagamento non completato", "Riprova il pagamento")
	expectPage(t, b.get("/bookings"), 200, "Doposcuola e aiuto compiti", "In attesa di pagamento")
	expectPage(t, b.get("/bookings/"+id), 200, "5,00 €", "Vai al pagamento", "Annulla la prenotazione")

	other := e.browser()
	other.login("cittadino.vedano")
	for _, path := range []string{"/bookings/" + id, "/bookings/" + id + "/pay", "/bookings/" + id + "/return"} {
		if p := other.get(path); p.status != http.StatusNotFound {
			t.Fatalf("%s for another citizen: %d", path, p.status)
		}
	}
	if _, err := e.st.Pool.Exec(context.Background(), `UPDATE bookings SET status = $2 WHERE id = $1`, id, workflows.BookingCancelled); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/bookings/" + id + "/pay"); p.status != http.StatusSeeOther || p.location != "/bookings/"+id {
		t.Fatalf("pay page of a cancelled booking: %d %s", p.status, p.location)
	}
}

// The booking page's forms reach the workflow. The cooperative accepts a
// two-session booking and records the first session delivered over its API
// (the saga's own path): a confirmation of the session not delivered is
// refused by the workflow, 409 with the reason on the page; none chosen is
// a 422 at the field; confirming the delivered one and cancelling the rest
// redirect with a message, and the workflow and the database agree that the
// booking is completed.
func TestWebBookingCancelAndConfirmForms(t *testing.T) {
	e := newCheckoutEnv(t, true)
	const cz, coop = "cittadino.tradate", "coop.baobab"
	voucher := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: cz, Cents: 100_000})
	svcID := bookingtest.ServiceID(t, e.st, "Centro estivo")
	expectStatus(t, e.do("POST", "/api/v1/cart/items", cz, map[string]any{"service_id": svcID, "quantity": 2}), 200)
	r, bk := e.book(cz, "", map[string]any{"service_id": svcID, "payment": "voucher", "voucher_id": voucher})
	expectStatus(t, r, 201)
	e.waitOffer(bk.ID, 1, "baobab")
	week := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	expectStatus(t, e.do("POST", "/api/v1/coop/bookings/"+bk.ID+"/respond", coop,
		map[string]any{"accept": true, "sessions": []time.Time{week, week.Add(24 * time.Hour)}}), 200)
	expectStatus(t, e.do("POST", "/api/v1/coop/bookings/"+bk.ID+"/deliveries", coop,
		map[string]any{"seq": 1, "delivered_at": time.Now().Add(-time.Minute)}), 200)

	b := e.browser()
	b.login(cz)
	page := b.get("/bookings/" + bk.ID)
	expectPage(t, page, 200, `id="seq-1"`, "Conferma l&#39;erogazione")
	if strings.Contains(page.body, `id="seq-2"`) {
		t.Fatalf("session 2 is not delivered, yet it can be confirmed:\n%s", page.body)
	}
	expectPage(t, b.post("/bookings/"+bk.ID+"/confirm", url.Values{"key": {"k1"}}), 422, "error-summary", `id="confirm-error"`)
	expectPage(t, b.post("/bookings/"+bk.ID+"/confirm", url.Values{"key": {"k2"}, "seq": {"2"}}), 409, `id="booking-problem"`,
		"l&#39;operazione non è possibile nello stato attuale della prenotazione")
	p := b.post("/bookings/"+bk.ID+"/confirm", url.Values{"key": {"k3"}, "seq": {"1"}})
	if p.status != http.StatusSeeOther || p.location != "/bookings/"+bk.ID {
		t.Fatalf("confirm: %d %s\n%s", p.status, p.location, p.body)
	}
	expectPage(t, b.get(p.location), 200, "Grazie: erogazione confermata.")
	p = b.post("/bookings/"+bk.ID+"/cancel", url.Values{"key": {"k4"}, "reason": {"cambio di programma"}})
	if p.status != http.StatusSeeOther || p.location != "/bookings/"+bk.ID {
		t.Fatalf("cancel: %d %s\n%s", p.status, p.location, p.body)
	}
	expectPage(t, b.get(p.location), 200, "Prenotazione annullata.")

	if res := e.sagaResult(bk.ID); res.Status != workflows.BookingCompleted {
		t.Fatalf("the saga ended %s, want completed (one session confirmed, one cancelled)", res.Status)
	}
	v, err := e.st.API().Booking(context.Background(), store.System, bk.ID)
	if err != nil || v.Status != workflows.BookingCompleted || len(v.Sessions) != 2 ||
		v.Sessions[0].Status != store.SessionConfirmed || v.Sessions[1].Status != store.SessionCancelled {
		t.Fatalf("booking in the database: %+v %v", v, err)
	}
}
