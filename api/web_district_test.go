package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The portal shows the district from its district file: the signed-in
// user's, else the one serving the host, else the default (Tradate's file
// says "default": true). Issue 15.
func TestWebShowsTheDistrictFromItsFile(t *testing.T) {
	e := newEnv(t)
	tradate := []string{"Ambito territoriale di Tradate", "0331 826811", "ufficio.piano@example.org", "background-color: #0066cc", `class="district-logo`}
	benecomune := []string{"Welfare Bene Comune", "Viale Silvestro Camerini 3", "049 000 0100", "benecomune@pec.example.org", "background-color: #1b6b50"}
	expectNone := func(t *testing.T, body string, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if strings.Contains(body, s) {
				t.Errorf("page shows %q of the other district", s)
			}
		}
	}

	anon := e.browser().get("/")
	expectPage(t, anon, http.StatusOK, tradate...)
	expectNone(t, anon.body, benecomune[0], benecomune[2])

	// Another host, named by Bene Comune's file.
	req, err := http.NewRequest("GET", e.srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "benecomune.localhost"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	expectPage(t, page{status: res.StatusCode, body: string(raw)}, http.StatusOK, benecomune...)

	for user, want := range map[string][]string{"supervisore.padova": benecomune, "operatore.piazzola": benecomune,
		"cittadino.limena": benecomune, "esercente.piazzola": benecomune, "coop.jonathan": benecomune,
		"supervisore": tradate, "cittadino.tradate": tradate} {
		t.Run(user, func(t *testing.T) {
			b := e.browser()
			b.login(user)
			p := b.get("/")
			expectPage(t, p, http.StatusOK, want...)
			other := tradate
			if want[0] == tradate[0] {
				other = benecomune
			}
			expectNone(t, p.body, other[0], other[2])
		})
	}

	b := e.browser()
	b.login("supervisore.padova")
	b.get("/lang/en?next=/")
	expectPage(t, b.get("/"), http.StatusOK, "Welfare Bene Comune (common-good welfare)", "Certified e-mail (PEC)", "Monday to Friday 9:00")
}
