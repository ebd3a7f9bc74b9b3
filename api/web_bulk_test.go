package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebInboxBulkForm: the inbox page's bulk form. Nothing selected, an
// amount that is not one, or an assignment without a colleague are a 422
// with the error next to the field and the selection kept; a supervisor's
// bulk assignment comes back with the summary, in English too; ?select=all
// ticks every row; operators get no assignment and may not post one.
func TestWebInboxBulkForm(t *testing.T) {
	e := newEnv(t)
	a := e.newApplicant(51, "tradate", 1, 0)
	b := e.newApplicant(52, "tradate", 1, 0)
	ta, tb := e.waitTask("supervisore", a), e.waitTask("supervisore", b)

	sv := e.browser()
	sv.login("supervisore")
	p := sv.get("/inbox?select=all")
	expectPage(t, p, http.StatusOK, `id="bulk-form"`, `value="`+ta.ID+`" form="bulk-form" checked`, `value="`+tb.ID+`" form="bulk-form" checked`,
		`name="assignee"`, "Assegna le selezionate")
	if strings.Contains(sv.get("/inbox").body, `form="bulk-form" checked`) {
		t.Error("rows are selected without ?select=all")
	}

	expectPage(t, sv.post("/inbox/bulk", url.Values{"action": {"approve"}, "next": {"/inbox"}}), http.StatusUnprocessableEntity,
		"Il modulo contiene errori", "Selezionare almeno una pratica.")
	expectPage(t, sv.post("/inbox/bulk", url.Values{"action": {"approve"}, "task": {ta.ID}, "amount": {"dieci"}, "next": {"/inbox"}}),
		http.StatusUnprocessableEntity, `id="bulk-amount-error"`, `value="dieci"`, `value="`+ta.ID+`" form="bulk-form" checked`)
	expectPage(t, sv.post("/inbox/bulk", url.Values{"action": {"assign"}, "task": {ta.ID, tb.ID}, "next": {"/inbox"}}),
		http.StatusUnprocessableEntity, `id="bulk-assignee-error"`, "Indicare a chi assegnare la pratica.")

	sv.get("/lang/en?next=/inbox")
	res := sv.post("/inbox/bulk", url.Values{"action": {"assign"}, "task": {ta.ID, tb.ID}, "assignee": {"operatore.tradate"},
		"next": {"/inbox?status=claimed"}})
	expectPage(t, res, http.StatusOK, "2 assigned, 0 refused.", `<option value="claimed" selected>`)
	for _, id := range []string{ta.ID, tb.ID} {
		r := e.do("GET", "/api/v1/tasks/"+id, "supervisore", nil)
		var tv taskView
		r.json(t, &tv)
		if tv.ClaimedBy != "operatore.tradate" {
			t.Fatalf("task %s after the bulk assignment: %+v", id, tv)
		}
	}

	op := e.browser()
	op.login("operatore.tradate")
	if p := op.get("/inbox"); strings.Contains(p.body, `name="assignee"`) || !strings.Contains(p.body, "Approva le selezionate") {
		t.Error("an operator's bulk form offers assignment, or no approval")
	}
	expectPage(t, op.post("/inbox/bulk", url.Values{"action": {"assign"}, "task": {ta.ID}, "assignee": {"supervisore"}, "next": {"/inbox"}}),
		http.StatusForbidden)
}
