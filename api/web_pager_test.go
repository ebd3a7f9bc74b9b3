package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Long lists page: the audit log of a busy case shows page 1 of 2 with a
// link to the next page, and the next page links back.
func TestWebAuditLogPages(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	if _, err := e.st.Pool.Exec(context.Background(), `INSERT INTO audit_log (district_id, municipality_id, case_id, actor_id,
			actor_username, actor_role, action, reason, detail)
		SELECT 'tradate', 'tradate', $1, u.id, u.username, u.role, 'read_case', '', '{}'::jsonb
		FROM users u, generate_series(1, 60) WHERE u.username = 'operatore.tradate'`, c.ID); err != nil {
		t.Fatal(err)
	}
	sv := e.browser()
	sv.login("supervisore")
	p := sv.get("/audit?case_id=" + c.ID)
	expectPage(t, p, http.StatusOK, `aria-label="Pagine del registro"`, "Pagina 1 di 2", "Pagina successiva")
	if strings.Contains(p.body, "Pagina precedente") {
		t.Fatal("the first page links to a previous one")
	}
	next := p.body[strings.Index(p.body, "Pagina 1 di 2"):]
	i := strings.Index(next, `href="`)
	href := strings.ReplaceAll(next[i+6:i+6+strings.Index(next[i+6:], `"`)], "&amp;", "&")
	expectPage(t, sv.get(href), http.StatusOK, "Pagina 2 di 2", "Pagina precedente")
}
