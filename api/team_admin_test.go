package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/calendar"
	"sportello/internal/store"
)

// TestTeamAdmin: a supervisor creates a team (a name in use is a 409, bad
// fields 422), adds members (someone of another municipality is a 422, twice
// a 409), removes one (who keeps their claimed task), switches automatic
// assignment on, and makes the team the reviewer of Tradate's fund (a team
// of another municipality is a 422); a case filed afterwards goes to the
// least loaded member. Every change is audited with before and after;
// operators may not manage teams.
func TestTeamAdmin(t *testing.T) {
	e := newEnv(t)
	e.addUser("operatore2.tradate", "operator", "tradate", "tradate", "")
	// A task operatore.tradate has claimed: their load is 1.
	busy := e.newApplicant(61, "tradate", 1, 0)
	busyTask := e.waitTask("operatore.tradate", busy)
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+busyTask.ID+"/claim", "operatore.tradate", nil), http.StatusOK)

	expectStatus(t, e.do("GET", "/api/v1/teams", "operatore.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("POST", "/api/v1/teams", "operatore.tradate", map[string]any{"name": "x"}), http.StatusForbidden)

	r := e.do("POST", "/api/v1/teams", "supervisore", map[string]any{"name": "  ", "municipality": "padova"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/name required"}) {
		t.Fatalf("empty name: %d %v", r.status, got)
	}
	r = e.do("POST", "/api/v1/teams", "supervisore", map[string]any{"name": "Squadra", "municipality": "limena"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/municipality unknown_municipality"}) {
		t.Fatalf("municipality of another district: %d %v", r.status, got)
	}
	r = e.do("POST", "/api/v1/teams", "supervisore", map[string]any{"name": "istruttoria buoni spesa – TRADATE"})
	if r.status != http.StatusConflict || r.errorBody(t).Code != store.CodeTeamNameTaken {
		t.Fatalf("a name in use: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/teams", "supervisore", map[string]any{"name": "Pronto intervento  Tradate", "municipality": "tradate"})
	expectStatus(t, r, http.StatusCreated)
	var team store.TeamDetail
	r.json(t, &team)
	if team.Name != "Pronto intervento Tradate" || team.Municipality != "tradate" || team.AutoAssign || len(team.Members) != 0 {
		t.Fatalf("created %+v", team)
	}
	base := "/api/v1/teams/" + team.ID

	for _, u := range []string{"operatore.tradate", "operatore2.tradate", "supervisore"} {
		expectStatus(t, e.do("POST", base+"/members", "supervisore", map[string]any{"username": u}), http.StatusCreated)
	}
	r = e.do("POST", base+"/members", "supervisore", map[string]any{"username": "operatore.vedano"})
	if got := pointers(t, r); !slices.Equal(got, []string{"/username ineligible_member"}) {
		t.Fatalf("an operator of another municipality: %d %v", r.status, got)
	}
	r = e.do("POST", base+"/members", "supervisore", map[string]any{"username": "operatore2.tradate"})
	if r.status != http.StatusConflict || r.errorBody(t).Code != store.CodeAlreadyMember {
		t.Fatalf("added twice: %d %s", r.status, r.body)
	}
	expectStatus(t, e.do("POST", "/api/v1/teams/nope/members", "supervisore", map[string]any{"username": "supervisore"}), http.StatusNotFound)

	// The list shows members with their load.
	var teams list[store.TeamDetail]
	e.do("GET", "/api/v1/teams", "supervisore", nil).json(t, &teams)
	loads := map[string]int{}
	for _, tm := range teams.Items {
		if tm.ID == team.ID {
			for _, m := range tm.Members {
				loads[m.Username] = m.Load
			}
		}
	}
	if len(teams.Items) != 3 || loads["operatore.tradate"] != 1 || loads["operatore2.tradate"] != 0 || len(loads) != 3 {
		t.Fatalf("%d teams, loads %v", len(teams.Items), loads)
	}

	// Removing the supervisor; removing operatore.tradate keeps their claimed task with them.
	expectStatus(t, e.do("DELETE", base+"/members/supervisore", "supervisore", nil), http.StatusOK)
	r = e.do("DELETE", base+"/members/operatore.tradate", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var removed api.RemovedMember
	r.json(t, &removed)
	if removed.KeptClaimedTasks != 1 || len(removed.Team.Members) != 1 {
		t.Fatalf("removed: %+v", removed)
	}
	var tv taskView
	e.do("GET", "/api/v1/tasks/"+busyTask.ID, "supervisore", nil).json(t, &tv)
	if tv.ClaimedBy != "operatore.tradate" {
		t.Fatalf("the removed member's task: %+v", tv)
	}
	expectStatus(t, e.do("DELETE", base+"/members/operatore.tradate", "supervisore", nil), http.StatusNotFound)
	// Back in the team, with their load of one.
	expectStatus(t, e.do("POST", base+"/members", "supervisore", map[string]any{"username": "operatore.tradate"}), http.StatusCreated)

	r = e.do("PATCH", base, "supervisore", map[string]any{})
	if got := pointers(t, r); !slices.Equal(got, []string{"/auto_assign required"}) {
		t.Fatalf("patch without auto_assign: %d %v", r.status, got)
	}
	r = e.do("PATCH", base, "supervisore", map[string]any{"auto_assign": true})
	expectStatus(t, r, http.StatusOK)

	// The fund: Vedano's team may not review Tradate's fund.
	var funds list[store.FundReview]
	e.do("GET", "/api/v1/fund-reviews", "supervisore", nil).json(t, &funds)
	fund := ""
	for _, f := range funds.Items {
		if f.Municipality == "tradate" && strings.HasPrefix(f.FundID, "buoni-spesa-") {
			fund = f.FundID
		}
	}
	if fund == "" || len(funds.Items) != 16 { // a food and a service fund per municipality
		t.Fatalf("fund reviews: %+v", funds.Items)
	}
	r = e.do("PUT", "/api/v1/funds/"+fund+"/review", "supervisore", map[string]any{"team_id": "istruttoria-buoni-spesa-vedano-olona", "auto_assign": false})
	if got := pointers(t, r); !slices.Equal(got, []string{"/team_id team_of_another_municipality"}) {
		t.Fatalf("a team of another municipality: %d %v", r.status, got)
	}
	expectStatus(t, e.do("PUT", "/api/v1/funds/nope/review", "supervisore", map[string]any{"auto_assign": false}), http.StatusNotFound)
	r = e.do("PUT", "/api/v1/funds/"+fund+"/review", "supervisore", map[string]any{"team_id": team.ID, "auto_assign": false})
	expectStatus(t, r, http.StatusOK)
	var fr store.FundReview
	r.json(t, &fr)
	if fr.TeamID != team.ID || fr.TeamName != team.Name || fr.AutoAssign {
		t.Fatalf("fund review %+v", fr)
	}

	// A case filed now goes to the least loaded member of the new team.
	c := e.newApplicant(62, "tradate", 1, 0)
	deadline := time.Now().Add(30 * time.Second)
	var claimedBy, teamID string
	for time.Now().Before(deadline) {
		err := e.st.Pool.QueryRow(context.Background(), `SELECT coalesce(u.username, ''), coalesce(t.team_id, '') FROM tasks t
			LEFT JOIN users u ON u.id = t.claimed_by WHERE t.case_id = $1 AND t.kind = 'review'`, c).Scan(&claimedBy, &teamID)
		if err == nil && claimedBy != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if claimedBy != "operatore2.tradate" || teamID != team.ID {
		var dbg string
		_ = e.st.Pool.QueryRow(context.Background(), `SELECT c.fund_id || ' ' || coalesce(f.team_id, '-') || ' ' || f.auto_assign::text || ' ' ||
			coalesce((SELECT string_agg(t.status || ':' || coalesce(t.team_id, '-'), ',') FROM tasks t WHERE t.case_id = c.id), 'no task')
			FROM cases c JOIN funds f ON f.id = c.fund_id WHERE c.id = $1`, c).Scan(&dbg)
		t.Fatalf("the new case's task is with %q in team %q, want operatore2.tradate in %s (%s)", claimedBy, teamID, team.ID, dbg)
	}

	// The audit trail: each change with before and after, recorded once
	// after it is attempted (a refusal as an <action>_refused row).
	byAction := map[string][]map[string]any{}
	for _, row := range e.auditRows("") {
		if row.Actor != "supervisore" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(row.Detail), &d); err != nil {
			t.Fatal(err)
		}
		byAction[row.Action] = append(byAction[row.Action], d)
	}
	want := map[string]int{"team_created": 1, "team_created_refused": 2, "team_member_added": 4, "team_member_added_refused": 2,
		"team_member_removed": 2, "team_auto_assign_changed": 1, "fund_review_changed": 1, "fund_review_changed_refused": 1}
	for action, n := range want {
		if len(byAction[action]) != n {
			t.Errorf("%d %s rows, want %d", len(byAction[action]), action, n)
		}
	}
	for _, action := range []string{"team_member_added", "team_member_removed", "team_auto_assign_changed", "fund_review_changed"} {
		for _, d := range byAction[action] {
			if _, ok := d["before"]; !ok {
				t.Errorf("%s without before: %v", action, d)
			}
			if _, ok := d["after"]; !ok {
				t.Errorf("%s without after: %v", action, d)
			}
		}
	}
	if d := byAction["fund_review_changed"]; len(d) == 2 {
		after, _ := d[1]["after"].(map[string]any)
		before, _ := d[1]["before"].(map[string]any)
		if after["team_id"] != team.ID || before["team_id"] != "istruttoria-buoni-spesa-tradate" {
			t.Errorf("fund review audit %v", d[1])
		}
	}
	if d := byAction["team_member_removed"]; len(d) == 2 {
		before, _ := d[1]["before"].(map[string]any)
		after, _ := d[1]["after"].(map[string]any)
		if !strings.Contains(jsonText(t, before), "operatore.tradate") || strings.Contains(jsonText(t, after), "operatore.tradate") {
			t.Errorf("member removal audit %v", d[1])
		}
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestAbsentPersonClaimRefused: someone whose absence has started cannot
// claim a task (409 out_of_office naming the delegate), in the JSON API and
// in a bulk approval; their delegate can.
func TestAbsentPersonClaimRefused(t *testing.T) {
	e := newEnv(t)
	today := time.Now().In(calendar.Rome()).Format("2006-01-02") // the absence's day is a day in Rome
	r := e.do("POST", "/api/v1/absences", "operatore.tradate", map[string]any{"delegate": "operatrice.tradate",
		"from": today, "to": today, "reason": "formazione"})
	expectStatus(t, r, http.StatusCreated)
	c := e.newApplicant(63, "tradate", 1, 0)
	tk := e.waitTask("operatore.tradate", c)

	r = e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatore.tradate", nil)
	if r.status != http.StatusConflict || r.errorBody(t).Code != "out_of_office" || !strings.Contains(r.errorBody(t).Message, "operatrice.tradate") {
		t.Fatalf("the absent person's claim: %d %s", r.status, r.body)
	}
	res := e.bulk("operatore.tradate", map[string]any{"action": "approve", "task_ids": []string{tk.ID}})
	expectItem(t, res.Items[0], "refused", "out_of_office")
	var tv taskView
	e.do("GET", "/api/v1/tasks/"+tk.ID, "operatrice.tradate", nil).json(t, &tv)
	if tv.Status != "open" || tv.ClaimedBy != "" {
		t.Fatalf("after the refused claims: %+v", tv)
	}
	expectStatus(t, e.do("POST", "/api/v1/tasks/"+tk.ID+"/claim", "operatrice.tradate", nil), http.StatusOK)
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'claim_refused' AND actor_username = 'operatore.tradate'`); n != 2 {
		t.Fatalf("%d claim_refused audit rows, want 2", n)
	}
}
