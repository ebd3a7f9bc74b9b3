package dashboard

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/app"
	"sportello/internal/store"
)

// TestProject: a fund runs out after available / (awarded per day of the
// period) days, counted from the day after the period; nothing awarded
// means no date; nothing left means exhausted.
func TestProject(t *testing.T) {
	from := time.Date(2026, 11, 27, 0, 0, 0, 0, rome)
	r := resolved{from: from, to: from.AddDate(0, 0, 7), days: 7}
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, rome)
	for _, tc := range []struct {
		name               string
		available, awarded int64
		runsOut            string
		exhausted          bool
	}{
		{"7 days of budget at 1,000 a day", 700000, 700000, "2026-12-10", false},
		{"a day and a bit: two days", 150000, 700000, "2026-12-05", false},
		{"nothing awarded", 500000, 0, "", false},
		{"nothing left", 0, 700000, "", true},
	} {
		got := project(store.DashboardFund{AvailableCents: tc.available, PeriodAwardedCents: tc.awarded}, r, now)
		if got.RunsOutOn != tc.runsOut || got.Exhausted != tc.exhausted {
			t.Errorf("%s: runs out %q exhausted %v, want %q %v", tc.name, got.RunsOutOn, got.Exhausted, tc.runsOut, tc.exhausted)
		}
	}
}

// TestCheckFilter: the default week ends today; a month is 30 days; custom
// dates; problems per parameter; an operator always reads their own
// municipality.
func TestCheckFilter(t *testing.T) {
	s := Service{&app.Core{}}
	now := time.Date(2026, 12, 3, 0, 30, 0, 0, rome)
	op := store.UserView{Role: "operator", District: "tradate", Municipality: "tradate"}
	day := func(s string) time.Time { d, _ := time.ParseInLocation(time.DateOnly, s, rome); return d }
	for _, tc := range []struct {
		name     string
		f        Filter
		from, to string
		days     int
		problems string
	}{
		{"default week", Filter{}, "2026-11-27", "2026-12-04", 7, ""},
		{"month", Filter{Period: "month"}, "2026-11-04", "2026-12-04", 30, ""},
		{"custom", Filter{Period: "custom", From: "2026-01-01", To: "2026-01-31"}, "2026-01-01", "2026-02-01", 31, ""},
		{"a week ending on to", Filter{To: "2026-06-10"}, "2026-06-04", "2026-06-11", 7, ""},
		{"one day", Filter{From: "2026-06-10", To: "2026-06-10"}, "2026-06-10", "2026-06-11", 1, ""},
		{"a whole year", Filter{From: "2025-01-01", To: "2026-01-01"}, "2025-01-01", "2026-01-02", 366, ""},
		{"too long", Filter{From: "2025-01-01", To: "2026-01-02"}, "", "", 0, "from:too_long"},
		{"backwards", Filter{From: "2026-06-10", To: "2026-06-09"}, "", "", 0, "to:before_from"},
		{"bad dates and period", Filter{Period: "year", From: "10/06/2026", To: "x"}, "", "", 0, "period:invalid to:invalid from:invalid"},
		{"another municipality", Filter{Municipality: "vedano-olona"}, "", "", 0, "municipality:forbidden"},
	} {
		r, fe, err := s.check(context.Background(), op, tc.f, now)
		if err != nil {
			t.Fatal(err)
		}
		var probs []string
		for _, f := range fe {
			probs = append(probs, f.Parameter+":"+f.Code)
		}
		if got := strings.Join(probs, " "); got != tc.problems {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.problems)
			continue
		}
		if tc.problems != "" {
			continue
		}
		if !r.from.Equal(day(tc.from)) || !r.to.Equal(day(tc.to)) || r.days != tc.days || r.municipality != "tradate" {
			t.Errorf("%s: %v to %v (%d days) in %q", tc.name, r.from, r.to, r.days, r.municipality)
		}
	}
}

// TestWriteCSV: every row names its figure, names that look like
// formulas are defused, money stays in cents.
func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	d := Dashboard{District: "tradate", From: "2026-11-27", To: "2026-12-03", Bucket: "day",
		Backlog: []store.DashboardBacklog{{Team: "t1", TeamName: "=HYPERLINK(\"x\")", Open: 2}},
		Funds:   []Fund{{DashboardFund: store.DashboardFund{ID: "f", Name: "Fondo", BudgetCents: 123456}, RunsOutOn: "2027-01-01"}}}
	if err := WriteCSV(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"filter,district,municipality,from,to\nfilter,tradate,,2026-11-27,2026-12-03\n",
		"backlog,t1,\"'=HYPERLINK(\"\"x\"\")\",2,0,0\n", "funds,f,Fondo,,,123456,0,0,0,0,0,0,0,2027-01-01\n",
		"applications,day,form,count\n", "failures,kind,count,amount_cents\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("CSV lacks %q:\n%s", want, out)
		}
	}
}
