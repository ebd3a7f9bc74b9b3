package calendar

import (
	"testing"
	"time"
)

func TestOfficeDue(t *testing.T) {
	tradate := Office{PatronMonth: time.June, PatronDay: 24, Opens: 8*time.Hour + 30*time.Minute, Closes: 17 * time.Hour}
	r := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, Rome()) }
	for _, c := range []struct {
		name string
		at   time.Time
		n    int
		want time.Time
	}{
		{"within hours", r(2026, 3, 2, 10, 0), 3, r(2026, 3, 5, 10, 0)},
		{"before opening counts from the opening", r(2026, 3, 2, 7, 0), 3, r(2026, 3, 5, 8, 30)},
		{"after closing counts from the next opening", r(2026, 3, 2, 18, 0), 3, r(2026, 3, 6, 8, 30)},
		{"at closing time the office is closed", r(2026, 3, 2, 17, 0), 1, r(2026, 3, 4, 8, 30)},
		{"Saturday counts from Monday's opening", r(2026, 3, 7, 11, 0), 3, r(2026, 3, 12, 8, 30)},
		{"the patron's day is skipped", r(2026, 6, 22, 10, 0), 3, r(2026, 6, 26, 10, 0)},
		{"received on the patron's day", r(2026, 6, 24, 10, 0), 1, r(2026, 6, 26, 8, 30)},
		{"Easter Monday and the patron-less office", r(2026, 4, 3, 9, 0), 1, r(2026, 4, 7, 9, 0)},
	} {
		if got := tradate.Due(c.at, c.n); !got.Equal(c.want) {
			t.Errorf("%s: Due(%s, %d) = %s, want %s", c.name, c.at.Format(time.DateTime), c.n, got.In(Rome()).Format(time.DateTime),
				c.want.Format(time.DateTime))
		}
	}
	// A whole-day office without a patron day agrees with AddWorkingDays.
	var plain Office
	for d := r(2026, 1, 1, 10, 0); d.Before(r(2027, 1, 1, 0, 0)); d = d.Add(7 * time.Hour) {
		if !IsWorkingDay(d) {
			continue
		}
		if a, b := plain.Due(d, 3), AddWorkingDays(d, 3); !a.Equal(b) {
			t.Fatalf("%s: Office{}.Due = %s, AddWorkingDays = %s", d, a, b)
		}
	}
	if !tradate.IsWorkingDay(r(2026, 6, 23, 12, 0)) || tradate.IsWorkingDay(r(2026, 6, 24, 12, 0)) {
		t.Fatal("patron day")
	}
}
