package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A supervisor assigns a case from its page to a social worker of the
// municipality, then takes it away only with a reason.
func TestWebSupervisorAssignsFromTheCasePage(t *testing.T) {
	e := newEnv(t)
	c := e.apply("cittadino.tradate")
	tk := e.waitTask("operatore.tradate", c.ID)

	sv := e.browser()
	sv.login("supervisore")
	p := sv.get("/cases/" + c.ID)
	expectPage(t, p, http.StatusOK, `action="/tasks/`+tk.ID+`/assign"`, `<label for="assignee"`, `value="operatore.tradate"`)
	if strings.Contains(p.body, `value="operatore.vedano"`) {
		t.Fatal("a Vedano worker is offered for a Tradate case")
	}
	key := regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`).FindAllStringSubmatch(p.body, -1)
	if len(key) == 0 {
		t.Fatal("no form key on the case page")
	}
	assignKey := key[len(key)-1][1]

	r := sv.post("/tasks/"+tk.ID+"/assign", url.Values{"assignee": {"operatore.tradate"}, "key": {assignKey}})
	if r.status != http.StatusSeeOther || r.location != "/cases/"+c.ID {
		t.Fatalf("assign: %d %q\n%s", r.status, r.location, r.body)
	}
	expectPage(t, sv.follow(r), http.StatusOK, "assegnata a operatore.tradate")

	op := e.browser()
	op.login("operatore.tradate")
	expectPage(t, op.get("/cases/"+c.ID), http.StatusOK, `action="/tasks/`+tk.ID+`/release"`)

	// Taking it away without a reason is refused, with the reason why.
	p = sv.get("/cases/" + c.ID)
	key = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`).FindAllStringSubmatch(p.body, -1)
	r = sv.post("/tasks/"+tk.ID+"/assign", url.Values{"assignee": {"supervisore"}, "key": {key[len(key)-1][1]}})
	expectPage(t, sv.follow(r), http.StatusOK, "non assegnata", "serve una motivazione")
	r = sv.post("/tasks/"+tk.ID+"/assign", url.Values{"assignee": {"supervisore"}, "reason": {"operatore in ferie"}, "key": {key[len(key)-1][1]}})
	expectPage(t, sv.follow(r), http.StatusOK, "assegnata a supervisore")

	// Operators cannot assign.
	if r := op.post("/tasks/"+tk.ID+"/assign", url.Values{"assignee": {"operatore.tradate"}}); r.status != http.StatusForbidden {
		t.Fatalf("an operator assigns: %d", r.status)
	}
}
