package e2e

import (
	"context"
	"net/http"
	"testing"

	"sportello/forms"
	"sportello/internal/auth"
)

// TestWebInboxBulkApprove: a supervisor selects every task on the inbox page
// with the header checkbox and approves them at once: a small award is
// approved, one above the fund's threshold becomes a first approval, one
// claimed by a colleague is refused with its reason and stays selected; axe
// finds no WCAG 2.1 A/AA violation before or after, nor on a phone.
func TestWebInboxBulkApprove(t *testing.T) {
	s := newStack(t)
	var small, big, taken struct {
		ID string `json:"id"`
	}
	s.login("cittadino.tradate").mustCall(http.StatusCreated, "POST", "/api/v1/applications",
		application(s.citizenTaxCode(), "tradate", 1, 0, 4500), &small)
	tc := "BLKWEB80A01L319"
	c, err := forms.TaxCodeCheckChar(tc)
	if err != nil {
		t.Fatal(err)
	}
	tc += string(c)
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id, tax_code)
		VALUES ('cittadina.bulk', $1, 'citizen', 'Cittadina Bulk', 'tradate', 'tradate', $2)`, hash, tc); err != nil {
		t.Fatal(err)
	}
	s.login("cittadina.bulk").mustCall(http.StatusCreated, "POST", "/api/v1/applications",
		application(tc, "tradate", 4, 2, 3000), &big)
	var vedanoTC string
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT tax_code FROM users WHERE username = 'cittadino.vedano'`).Scan(&vedanoTC); err != nil {
		t.Fatal(err)
	}
	s.login("cittadino.vedano").mustCall(http.StatusCreated, "POST", "/api/v1/applications",
		application(vedanoTC, "vedano-olona", 1, 0, 4500), &taken)

	sup := s.login("supervisore")
	for _, id := range []string{small.ID, big.ID} {
		sup.taskFor(id)
	}
	op := s.login("operatore.vedano")
	tk := op.taskFor(taken.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)

	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.Navigate("/inbox")
	assertPage(t, p, "Pratiche da lavorare", small.ID, big.ID, taken.ID, "Azioni sulle pratiche selezionate")

	rows := p.Count(`input[name="task"]`)
	if rows != 3 {
		t.Fatalf("%d selectable rows, want 3", rows)
	}
	p.Fill("Seleziona tutte le pratiche di questa pagina", "true")
	if n := p.Count(`input[name="task"]:checked`); n != rows {
		t.Fatalf("select all checked %d of %d rows", n, rows)
	}
	p.Submit("Approva le selezionate")
	assertTitle(t, p, "Pratiche da lavorare")
	assertText(t, p, "2 approvate, 1 rifiutata (1 è una prima approvazione: serve la seconda di un supervisore):",
		taken.ID+": La pratica è in carico a operatore.vedano.", "Le pratiche rifiutate restano selezionate.")
	if n := p.Count(`input[name="task"]:checked`); n != 1 || !p.Has(`#sel-`+tk.ID+`:checked`) {
		t.Fatalf("after the bulk approval %d rows are selected; want only the refused %s", n, taken.ID)
	}
	p.Axe()
	p.Screenshot("inbox-after-bulk-approval")
	if st := sup.applicationStatus(small.ID); st != "approved" {
		t.Fatalf("the small award is %s", st)
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type = 'first_approval'`, big.ID); n != 1 {
		t.Fatalf("%d first approvals of the large award", n)
	}
	// One audit row per item, after it: two decisions, one refusal.
	if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'supervisore' AND action = 'decide'`); n != 2 {
		t.Fatalf("%d decide audit rows, want one per decided item (2)", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'supervisore' AND action = 'decide_refused'`); n != 1 {
		t.Fatalf("%d decide_refused audit rows, want 1", n)
	}

	// On a phone: the inbox with its bulk form does not scroll sideways.
	p.Phone()
	p.Navigate("/inbox")
	var wide bool
	p.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &wide)
	if wide {
		t.Fatal("the inbox scrolls sideways on a phone")
	}
	p.Axe()
}
