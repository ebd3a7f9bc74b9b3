package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/seed"
)

// TestOfficeCalendarAPI: supervisors read and replace the office calendar of
// their district's municipalities; impossible dates and hours are a 422 at
// the field; every change is audited with the values before and after.
func TestOfficeCalendarAPI(t *testing.T) {
	e := newEnv(t)
	const path = "/api/v1/municipalities/tradate/calendar"
	r := e.do("GET", path, "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var cal map[string]any
	r.json(t, &cal)
	// The seeded calendar is the district file's: Santo Stefano, 26 December.
	if cal["name"] != "Tradate" || cal["office_opens"] != "08:30" || cal["office_closes"] != "17:00" || cal["patron_day"] != 26.0 ||
		cal["patron_saint"] != "Santo Stefano" {
		t.Fatalf("seeded calendar: %v", cal)
	}
	expectStatus(t, e.do("GET", path, "operatore.tradate", nil), http.StatusForbidden)
	expectStatus(t, e.do("GET", "/api/v1/municipalities/nowhere/calendar", "supervisore", nil), http.StatusNotFound)
	// A municipality of another district is not found.
	var padova string
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT id FROM municipalities WHERE district_id = 'alta-padovana' LIMIT 1`).Scan(&padova); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("GET", "/api/v1/municipalities/"+padova+"/calendar", "supervisore", nil), http.StatusNotFound)
	expectStatus(t, e.do("PUT", "/api/v1/municipalities/"+padova+"/calendar", "supervisore",
		map[string]any{"office_opens": "09:00", "office_closes": "12:00"}), http.StatusNotFound)

	bad := []struct {
		name    string
		body    map[string]any
		pointer string
	}{
		{"31 February", map[string]any{"patron_saint": "San Biagio", "patron_day": 31, "patron_month": 2}, "/patron_day"},
		{"31 April", map[string]any{"patron_saint": "San Marco", "patron_day": 31, "patron_month": 4}, "/patron_day"},
		{"day 0", map[string]any{"patron_saint": "San Marco", "patron_day": 0, "patron_month": 4}, "/patron_day"},
		{"month 13", map[string]any{"patron_saint": "San Marco", "patron_day": 1, "patron_month": 13}, "/patron_month"},
		{"day without month", map[string]any{"patron_saint": "San Marco", "patron_day": 25}, "/patron_month"},
		{"date without saint", map[string]any{"patron_day": 25, "patron_month": 4}, "/patron_saint"},
		{"saint without date", map[string]any{"patron_saint": "San Marco"}, "/patron_day"},
		{"closes before opens", map[string]any{"office_opens": "14:00", "office_closes": "08:00"}, "/office_closes"},
		{"closes when it opens", map[string]any{"office_opens": "08:00", "office_closes": "08:00"}, "/office_closes"},
		{"opens only", map[string]any{"office_opens": "08:00"}, "/office_closes"},
		{"not a time", map[string]any{"office_opens": "8.30", "office_closes": "17:00"}, "/office_opens"},
		{"25:00", map[string]any{"office_opens": "08:30", "office_closes": "25:00"}, "/office_closes"},
		{"wrong type", map[string]any{"patron_day": "ventisei"}, "/patron_day"},
		{"unknown member", map[string]any{"holiday": "2026-12-26"}, "/holiday"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", path, "supervisore", tc.body)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			found := false
			for _, f := range r.errorBody(t).Fields {
				found = found || f.Pointer == tc.pointer
				if f.Message == "" || f.MessageIT == "" {
					t.Fatalf("a field problem without its messages: %+v", f)
				}
			}
			if !found {
				t.Fatalf("no problem at %s: %s", tc.pointer, r.body)
			}
		})
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'office_calendar%'`); n != 0 {
		t.Fatalf("refused changes left %d audit rows", n)
	}

	r = e.do("PUT", path, "supervisore", map[string]any{"patron_saint": " Santo Stefano ", "patron_day": 26, "patron_month": 12,
		"office_opens": "08:00", "office_closes": "13:00"})
	expectStatus(t, r, http.StatusOK)
	r = e.do("GET", path, "supervisore", nil)
	r.json(t, &cal)
	if cal["patron_saint"] != "Santo Stefano" || cal["patron_day"] != 26.0 || cal["patron_month"] != 12.0 ||
		cal["office_opens"] != "08:00" || cal["office_closes"] != "13:00" {
		t.Fatalf("stored calendar: %v", cal)
	}
	var detail []byte
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'office_calendar'
		AND actor_username = 'supervisore' AND municipality_id = 'tradate'`).Scan(&detail); err != nil {
		t.Fatalf("audit row: %v", err)
	}
	var d struct {
		Before, After map[string]any
	}
	if err := json.Unmarshal(detail, &d); err != nil || d.Before["office_opens"] != "08:30" || d.After["patron_saint"] != "Santo Stefano" {
		t.Fatalf("audit detail: %s", detail)
	}
	// An empty calendar: no patron's day, open all day.
	expectStatus(t, e.do("PUT", path, "supervisore", map[string]any{}), http.StatusOK)
	r = e.do("GET", path, "supervisore", nil)
	r.json(t, &cal)
	if cal["patron_day"] != nil || cal["office_opens"] != nil {
		t.Fatalf("cleared calendar: %v", cal)
	}
}

// TestOfficeCalendarMovesNewDueDates: after a supervisor sets Tradate's
// patron saint on a working day that falls within a new review's time, a
// case filed afterwards is due one working day later than on the old
// calendar, while the due date of a case filed before stays as it was.
func TestOfficeCalendarMovesNewDueDates(t *testing.T) {
	e := newEnv(t)
	old := calendar.Office{Opens: 8*time.Hour + 30*time.Minute, Closes: 17 * time.Hour}
	// The first day ahead whose being a holiday changes the due date of a
	// review opened in the next minutes.
	now := time.Now()
	var patron time.Time
	for d := 1; d <= 14 && patron.IsZero(); d++ {
		cand := now.AddDate(0, 0, d).In(calendar.Rome())
		o := old
		o.PatronMonth, o.PatronDay = cand.Month(), cand.Day()
		moves := func(at time.Time) bool {
			return !o.Due(at, seed.ReviewWorkingDays).Equal(old.Due(at, seed.ReviewWorkingDays))
		}
		if moves(now) && moves(now.Add(10*time.Minute)) {
			patron = cand
		}
	}
	if patron.IsZero() {
		t.Fatal("no day ahead changes a due date")
	}
	before := e.newApplicant(31, "tradate", 1, 0)
	beforeTask := e.waitTask("operatore.tradate", before)
	dueOf := func(taskID string) (due, created time.Time) {
		t.Helper()
		if err := e.st.Pool.QueryRow(context.Background(), `SELECT due_at, created_at FROM tasks WHERE id = $1`, taskID).Scan(&due, &created); err != nil {
			t.Fatal(err)
		}
		return due, created
	}
	beforeDue, beforeCreated := dueOf(beforeTask.ID)
	if !beforeDue.Equal(old.Due(beforeCreated, seed.ReviewWorkingDays).Truncate(time.Microsecond)) {
		t.Fatalf("due date on the seeded calendar: %v, want %v", beforeDue, old.Due(beforeCreated, seed.ReviewWorkingDays))
	}

	r := e.do("PUT", "/api/v1/municipalities/tradate/calendar", "supervisore", map[string]any{
		"patron_saint": "Santo di prova", "patron_day": patron.Day(), "patron_month": int(patron.Month()),
		"office_opens": "08:30", "office_closes": "17:00"})
	expectStatus(t, r, http.StatusOK)

	after := e.newApplicant(32, "tradate", 1, 0)
	afterTask := e.waitTask("operatore.tradate", after)
	afterDue, afterCreated := dueOf(afterTask.ID)
	edited := old
	edited.PatronMonth, edited.PatronDay = patron.Month(), patron.Day()
	want := edited.Due(afterCreated, seed.ReviewWorkingDays).Truncate(time.Microsecond)
	if !afterDue.Equal(want) {
		t.Fatalf("due date after the patron's day was set: %v, want %v (old calendar: %v)", afterDue, want,
			old.Due(afterCreated, seed.ReviewWorkingDays))
	}
	if afterDue.Equal(old.Due(afterCreated, seed.ReviewWorkingDays).Truncate(time.Microsecond)) {
		t.Fatalf("the new case's due date %v ignores the patron's day %s", afterDue, patron.Format("02/01"))
	}
	if again, _ := dueOf(beforeTask.ID); !again.Equal(beforeDue) {
		t.Fatalf("an existing due date moved: %v → %v", beforeDue, again)
	}
}
