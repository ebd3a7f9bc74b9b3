package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"sportello/internal/bookingtest"
	"sportello/internal/browsertest"
	"sportello/internal/calendar"
)

// In the browser, on a phone: Baobab's user finds a request in the inbox
// with its deadline, tries to accept without dates (errors at the fields),
// accepts with one date per session, records a delivery in the future
// (refused at the field) and then the first session; the deliveries page
// shows it waiting for the citizen's confirmation. axe checks every page, in
// Italian and English.
func TestWebCoopBookings(t *testing.T) {
	s := newSagaStack(t)
	price, err := bookingtest.UnitPrice(context.Background(), s.st)
	if err != nil {
		t.Fatal(err)
	}
	b := s.checkout(t, 2, 2*price) // all by voucher: no payment to wait for
	eventually(t, "the offer to Baobab", func() bool {
		return s.count(`SELECT count(*) FROM booking_offers WHERE booking_id = $1 AND outcome = 'pending'`, b.ID) == 1
	})
	var number int64
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT number FROM bookings WHERE id = $1`, b.ID).Scan(&number); err != nil {
		t.Fatal(err)
	}
	n := strconv.FormatInt(number, 10)

	co := browsertest.NewPage(t, s.srv.URL, "coop.baobab")
	co.Phone()
	webLogin(t, co, "coop.baobab")
	co.Follow("Prenotazioni")
	assertTitle(t, co, "Prenotazioni ricevute")
	assertText(t, co, "Richieste da confermare", "Doposcuola e aiuto compiti", "Nessuna prenotazione in corso.")
	if co.Text(`tr[data-booking="`+b.ID+`"] strong`) == "" {
		t.Fatalf("no deadline shown:\n%s", co.MainText())
	}
	co.Axe()
	noSidewaysScroll(t, co)

	co.FollowIn("table.coop-requests", n)
	assertPage(t, co, "Prenotazione n. "+n, "La richiesta attende la vostra risposta entro il", "Maria Rossi", "Tradate")
	noSidewaysScroll(t, co)
	co.Submit("Conferma la prenotazione")
	if !co.Has("#error-summary") || !co.Has(`#session-1[aria-invalid="true"]`) || !co.Has(`#session-2[aria-invalid="true"]`) {
		t.Fatalf("accept without dates:\n%s", co.MainText())
	}
	co.Axe()
	week := time.Now().Add(7 * 24 * time.Hour).In(calendar.Rome())
	co.Fill("Data della sessione 1", week.Format("2006-01-02T15:04"))
	co.Fill("Data della sessione 2", week.Add(7*24*time.Hour).Format("2006-01-02T15:04"))
	co.Submit("Conferma la prenotazione")
	assertText(t, co, "Prenotazione confermata: il cittadino è stato avvisato.")
	if got := co.Text("#booking-status"); got != "Confermata" {
		t.Fatalf("status %q after accepting", got)
	}
	co.Axe()

	co.Fill("Svolta il (sessione 1)", week.Format("2006-01-02T15:04"))
	co.Submit("Registra la sessione 1")
	if !co.Has("#error-summary") || !co.Has(`#delivered-at-1[aria-invalid="true"]`) {
		t.Fatalf("a delivery in the future:\n%s", co.MainText())
	}
	assertText(t, co, "Una sessione non può essere svolta nel futuro.")
	co.Axe()
	co.Navigate("/coop/bookings/" + b.ID)
	co.Submit("Registra la sessione 1")
	assertText(t, co, "Sessione registrata come svolta.")
	if got := co.Text(`tr[data-seq="1"] .session-status`); got != "Svolta, da confermare" {
		t.Fatalf("session 1 reads %q", got)
	}
	if co.Has("#deliver-1") || !co.Has("#deliver-2") {
		t.Fatal("the delivery forms do not follow the sessions' states")
	}
	co.Axe()

	co.Follow("Sessioni svolte")
	assertPage(t, co, "Sessioni svolte", "in attesa di conferma", "Doposcuola e aiuto compiti")
	co.Navigate("/lang/en?next=/coop/bookings")
	assertText(t, co, "Bookings in progress", "Doposcuola e aiuto compiti")
	co.Axe()
	co.Navigate("/coop/bookings/" + b.ID)
	assertText(t, co, "Record session 2", "Delivered, to be confirmed")
	co.Axe()

	if got := s.count(`SELECT count(*) FROM booking_sessions WHERE booking_id = $1 AND status = 'delivered' AND seq = 1
		AND delivery_note = '' AND cooperative_id = 'baobab'`, b.ID); got != 1 {
		t.Fatalf("session 1 not delivered by Baobab in the database")
	}
	if got := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'coop.baobab' AND action = 'record_delivery_refused'`); got != 1 {
		t.Errorf("%d refused deliveries audited, want 1", got)
	}
}
