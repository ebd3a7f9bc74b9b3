package api_test

import (
	"net/http"
	"testing"
)

// TestWebApplyToAnotherMunicipalitysCall: the open calls list every
// municipality's calls with a link to apply; a citizen who follows one not
// open in their municipality is sent back to the list with a message saying
// so, in their language (it used to be a bare "invalid data" page), and the
// call of their own municipality opens its form.
func TestWebApplyToAnotherMunicipalitysCall(t *testing.T) {
	e := newEnv(t)
	b := e.browserAs("cittadina.piazzola")
	expectPage(t, b.get("/open-calls"), http.StatusOK, `href="/apply/buoni-spesa?call=buoni-spesa-limena"`)

	p := b.get("/apply/buoni-spesa?call=buoni-spesa-limena")
	if p.status != http.StatusSeeOther || p.location != "/open-calls" {
		t.Fatalf("another municipality's call: %d to %q\n%s", p.status, p.location, p.body)
	}
	expectPage(t, b.follow(p), http.StatusOK, "Quel bando non è aperto nel tuo comune", "Bandi aperti")
	p = b.get("/apply/buoni-spesa/data?call=no-such-call")
	if p.status != http.StatusSeeOther || p.location != "/open-calls" {
		t.Fatalf("an unknown call: %d to %q", p.status, p.location)
	}
	b.get("/lang/en?next=/")
	expectPage(t, b.follow(b.get("/apply/buoni-spesa?call=buoni-spesa-limena")), http.StatusOK,
		"That call is not open in your municipality")

	expectPage(t, b.get("/apply/buoni-spesa?call=buoni-spesa-piazzola-sul-brenta"), http.StatusOK)
}
