package e2e

import (
	"net/http"
	"net/url"
	"testing"
)

// TestWebAuditLog: an operator reads a case; the supervisor follows the
// case page's link to the access log, sees the read, filters by user, and
// axe finds no WCAG 2.1 A/AA violation on either page.
func TestWebAuditLog(t *testing.T) {
	s := newStack(t)
	var created struct {
		ID string `json:"id"`
	}
	s.login("cittadino.tradate").mustCall(http.StatusCreated, "POST", "/api/v1/applications",
		application(s.citizenTaxCode(), "tradate", 3, 1, 4500), &created)
	s.login("operatore.tradate").mustCall(http.StatusOK, "GET", "/api/v1/applications/"+created.ID, nil, nil)

	sup := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	sup.Navigate("/cases/" + created.ID)
	assertTitle(t, sup, created.ID)
	sup.Axe()
	sup.FollowIn("main", "Chi ha letto o lavorato questa pratica: registro accessi")
	assertPath(t, sup, "/audit?case_id="+url.QueryEscape(created.ID))
	assertTitle(t, sup, "Registro accessi")
	// The supervisor's own visit of the case page is the newest row.
	assertText(t, sup, "operatore.tradate", "supervisore", "Consultazione pratica", "Operatore sociale", created.ID)
	sup.Axe()

	sup.Fill("Numero pratica", "")
	sup.Fill("Utente", "operatore.tradate")
	sup.Submit("Filtra")
	assertPage(t, sup, "Registro accessi", "Registrazioni trovate: 1.", "Registro accessi dell'utente operatore.tradate")
}
