package e2e

import (
	"context"
	"net/http"
	"testing"

	"sportello/internal/bookingtest"
	"sportello/internal/store"
)

// In the browser: the supervisor opens the operations console from the
// menu, finds a failed refund, asks to resolve it by hand (first without a
// reason: 422, the problem next to the field and in the summary), then sees
// the request waiting for a second supervisor; in Italian and English, axe
// on every page. An operator may not open the console.
func TestWebOperationsConsole(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	b, err := bookingtest.Checkout(t, s.st, 2, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	x, err := s.st.RecordIncident(ctx, store.IncidentInput{Key: "web-ops:refund:1", BookingID: b.ID, Kind: store.IncidentRefundFailed,
		AmountCents: 900, Details: "refused by the provider"})
	if err != nil {
		t.Fatal(err)
	}
	row := `tr[data-item="refund_failed:` + x.ID + `"]`

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.Follow("Operazioni")
	assertPage(t, sup, "Console delle operazioni", "Rimborso non riuscito", "Tradate", "9,00", "refused by the provider")
	sup.Axe()

	sup.SubmitIn(row, "Chiedi di risolvere a mano")
	assertText(t, sup, "Motivo: campo obbligatorio")
	if sup.Attr(row+` input[name="reason"]`, "aria-invalid") != "true" {
		t.Fatal("the reason field is not marked invalid")
	}
	sup.Axe()

	sup.FillSelector(row+` input[name="reason"]`, "rimborso concordato con il gestore")
	sup.SubmitIn(row, "Chiedi di risolvere a mano")
	assertPage(t, sup, "Console delle operazioni", "Richiesta registrata", "Richiesta di Supervisore Ambito di Tradate: rimborso concordato con il gestore")
	if !sup.Has(row + ` button`) {
		t.Fatal("no approval button on the row")
	}
	sup.Axe()

	sup.Navigate("/lang/en?next=/operations")
	assertPage(t, sup, "Operations console", "Refund failed", "Asked by Supervisore Ambito di Tradate", "Approve as second supervisor")
	sup.Axe()

	op := loggedIn(t, s.srv.URL, "operatore.tradate", "operatore.tradate")
	if st := op.NavigateStatus("/operations"); st != http.StatusForbidden {
		t.Fatalf("an operator opened the console: %d", st)
	}
}
