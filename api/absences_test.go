package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"sportello/internal/calendar"
)

func pointers(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, f := range r.errorBody(t).Fields {
		out = append(out, f.Pointer+" "+f.Code)
	}
	slices.Sort(out)
	return out
}

// TestAbsencesAPI: validation field by field, roles, who may cancel, the
// team filter of the task list, and the audit trail of both actions.
func TestAbsencesAPI(t *testing.T) {
	e := newEnv(t)
	rome := calendar.Rome()
	day := func(n int) string { return time.Now().In(rome).AddDate(0, 0, n).Format("2006-01-02") }

	r := e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"from": "domani", "to": day(-1)})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad request: %d %s", r.status, r.body)
	}
	if got, want := pointers(t, r), []string{"/delegate required", "/from invalid_date", "/reason required"}; !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	r = e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"delegate": "operatrice.tradate",
		"from": day(-2), "to": day(-1), "reason": "ferie"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/to in_the_past"}) {
		t.Fatalf("past range: %d %v", r.status, got)
	}
	r = e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"delegate": "operatrice.tradate",
		"from": day(3), "to": day(2), "reason": "ferie"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/to before_from"}) {
		t.Fatalf("reversed range: %d %v", r.status, got)
	}
	r = e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"user": "operatrice.tradate",
		"delegate": "supervisore", "from": day(1), "to": day(2), "reason": "ferie"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/user unknown_user"}) {
		t.Fatalf("an operator recording a colleague's absence: %d %v", r.status, got)
	}
	if r := e.do("POST", "/api/v1/absences", "cittadino.tradate", map[string]any{}); r.status != http.StatusForbidden {
		t.Fatalf("citizen: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"delegate": "x", "from": day(1),
		"to": day(1), "reason": "x", "extra": 1}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown member: %d", r.status)
	}

	r = e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"delegate": "operatrice.tradate",
		"from": day(1), "to": day(2), "reason": "formazione"})
	if r.status != http.StatusCreated {
		t.Fatalf("record: %d %s", r.status, r.body)
	}
	var abs struct {
		ID, Username, Delegate, Status string
	}
	r.json(t, &abs)
	if abs.Username != "operatore.tradate" || abs.Delegate != "operatrice.tradate" || abs.Status != "scheduled" {
		t.Fatalf("recorded %+v", abs)
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	e.do("GET", "/api/v1/absences", "operatrice.tradate", nil).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != abs.ID {
		t.Fatalf("the colleague's list: %+v", list.Items)
	}
	e.do("GET", "/api/v1/absences", "operatore.vedano", nil).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another municipality sees %d absences", len(list.Items))
	}
	if r := e.do("POST", "/api/v1/absences/"+abs.ID+"/cancel", "operatrice.tradate", nil); r.status != http.StatusForbidden {
		t.Fatalf("a colleague cancels: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/absences/"+abs.ID+"/cancel", "operatore.vedano", nil); r.status != http.StatusNotFound {
		t.Fatalf("another municipality cancels: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/absences/"+abs.ID+"/cancel", "supervisore", nil); r.status != http.StatusOK {
		t.Fatalf("the supervisor cancels: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/absences/"+abs.ID+"/cancel", "supervisore", nil); r.status != http.StatusConflict {
		t.Fatalf("cancel twice: %d", r.status)
	}

	var actions []string
	for _, row := range e.auditRows("") {
		actions = append(actions, row.Action+" "+row.Actor)
	}
	for _, want := range []string{"record_absence operatore.tradate", "cancel_absence supervisore"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit trail %v lacks %q", actions, want)
		}
	}

	if r := e.do("GET", "/api/v1/tasks?team=nope", "operatore.tradate", nil); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown team: %d", r.status)
	}
	for _, team := range []string{"mine", "istruttoria-buoni-spesa-tradate"} {
		if r := e.do("GET", "/api/v1/tasks?team="+team, "operatore.tradate", nil); r.status != http.StatusOK {
			t.Fatalf("team %s: %d %s", team, r.status, r.body)
		}
	}
}
