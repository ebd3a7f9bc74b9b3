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

// A backlog beyond the inbox's count cap (store.TaskCountCap): the inbox
// says "more than 1,000", its pager "page 1 of more than 40" (25 a page) with a link to
// the next page, and the JSON list says total_capped.
func TestWebInboxCappedCount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Pool.Exec(ctx, `WITH c AS (
			INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id, form_version, fund_id,
				data, status, workflow_id, request_hash)
			SELECT 'BS-BACKLOG-' || lpad(i::text, 5, '0'), 'tradate', 'tradate', u.id, 'BKL' || i, 'buoni-spesa', 1,
				(SELECT f.id FROM funds f WHERE f.municipality_id = 'tradate' AND f.form_id = 'buoni-spesa' LIMIT 1),
				'{}', 'in_review', 'case:BS-BACKLOG-' || i, 'h'
			FROM users u, generate_series(1, 1005) AS i WHERE u.username = 'cittadino.tradate'
			RETURNING id)
		INSERT INTO tasks (id, case_id, district_id, municipality_id, status, due_at, created_at)
		SELECT gen_random_uuid(), id, 'tradate', 'tradate', 'open', now() + interval '3 days', now() FROM c`); err != nil {
		t.Fatal(err)
	}
	op := e.browser()
	op.login("operatore.tradate")
	p := op.get("/inbox?status=open")
	expectPage(t, p, http.StatusOK, "Pratiche trovate: più di 1.000.", "Pagina 1 di oltre 40", "Pagina successiva")
	r := e.do("GET", "/api/v1/tasks?status=open", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var list struct {
		Total       int  `json:"total"`
		TotalCapped bool `json:"total_capped"`
	}
	r.json(t, &list)
	if list.Total != 1000 || !list.TotalCapped {
		t.Errorf("GET /api/v1/tasks: total %d, capped %v; want 1000, true", list.Total, list.TotalCapped)
	}
}
