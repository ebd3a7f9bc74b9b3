package calendar

import (
	"math/rand/v2"
	"testing"
	"time"
)

func romeAt(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, Rome())
}

func TestRome(t *testing.T) {
	if got := Rome().String(); got != "Europe/Rome" {
		t.Fatalf("Rome() = %q", got)
	}
	winter := romeAt(2026, time.January, 15, 12, 0)
	summer := romeAt(2026, time.July, 15, 12, 0)
	if _, off := winter.Zone(); off != 3600 {
		t.Errorf("winter offset = %d, want 3600", off)
	}
	if _, off := summer.Zone(); off != 7200 {
		t.Errorf("summer offset = %d, want 7200", off)
	}
}

func TestEaster(t *testing.T) {
	cases := []struct {
		year  int
		month time.Month
		day   int
	}{
		{1961, time.April, 2},
		{2000, time.April, 23},
		{2008, time.March, 23},
		{2011, time.April, 24},
		{2019, time.April, 21},
		{2024, time.March, 31},
		{2025, time.April, 20},
		{2026, time.April, 5},
		{2027, time.March, 28},
		{2038, time.April, 25},
		{2285, time.March, 22}, // earliest possible
	}
	for _, c := range cases {
		m, d := Easter(c.year)
		if m != c.month || d != c.day {
			t.Errorf("Easter(%d) = %s %d, want %s %d", c.year, m, d, c.month, c.day)
		}
	}
}

func TestEasterAlwaysSundayInRange(t *testing.T) {
	for y := 1583; y <= 4099; y++ {
		m, d := Easter(y)
		date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
		if date.Weekday() != time.Sunday {
			t.Fatalf("Easter(%d) = %s is a %s", y, date.Format(time.DateOnly), date.Weekday())
		}
		lo := time.Date(y, time.March, 22, 0, 0, 0, 0, time.UTC)
		hi := time.Date(y, time.April, 25, 23, 0, 0, 0, time.UTC)
		if date.Before(lo) || date.After(hi) {
			t.Fatalf("Easter(%d) = %s outside March 22 - April 25", y, date.Format(time.DateOnly))
		}
	}
}

func TestIsHoliday(t *testing.T) {
	holidays := []string{
		"2026-01-01", "2026-01-06", "2026-04-05", "2026-04-06", "2026-04-25",
		"2026-05-01", "2026-06-02", "2026-08-15", "2026-10-04", "2026-11-01",
		"2026-12-08", "2026-12-25", "2026-12-26",
		"2025-04-20", "2025-04-21", "2024-03-31", "2024-04-01", "2027-10-04",
	}
	for _, s := range holidays {
		d, _ := time.ParseInLocation(time.DateOnly, s, Rome())
		if !IsHoliday(d) {
			t.Errorf("IsHoliday(%s) = false, want true", s)
		}
		if IsWorkingDay(d) {
			t.Errorf("IsWorkingDay(%s) = true on a holiday", s)
		}
	}
	notHolidays := []string{
		"2025-10-04", // San Francesco is a holiday only from 2026
		"2024-10-04",
		"2026-04-07", "2026-04-04", "2026-03-19", "2026-12-24", "2026-12-31",
		"2026-06-24", // a local patron saint day in some towns: not national
		"2026-08-14",
	}
	for _, s := range notHolidays {
		d, _ := time.ParseInLocation(time.DateOnly, s, Rome())
		if IsHoliday(d) {
			t.Errorf("IsHoliday(%s) = true, want false", s)
		}
	}
}

func TestIsHolidayUsesRomeDate(t *testing.T) {
	// 2025-12-31 23:30 UTC is already January 1 in Rome.
	nye := time.Date(2025, time.December, 31, 23, 30, 0, 0, time.UTC)
	if !IsHoliday(nye) {
		t.Error("23:30 UTC on Dec 31 is New Year's Day in Rome")
	}
	// 2026-01-01 23:30 UTC is January 2 in Rome (a Friday, working day).
	jan2 := time.Date(2026, time.January, 1, 23, 30, 0, 0, time.UTC)
	if IsHoliday(jan2) || !IsWorkingDay(jan2) {
		t.Error("23:30 UTC on Jan 1 is Friday January 2 in Rome, a working day")
	}
	// Same instant seen from New York (still Jan 1 evening there) gives the Rome answer.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if IsHoliday(jan2.In(ny)) {
		t.Error("IsHoliday must look at the Rome date, not the value's location")
	}
}

func TestIsWorkingDay(t *testing.T) {
	cases := map[string]bool{
		"2026-03-13": true,  // Friday
		"2026-03-14": false, // Saturday
		"2026-03-15": false, // Sunday
		"2026-03-16": true,  // Monday
		"2026-04-06": false, // Easter Monday
		"2026-10-05": true,  // Monday after San Francesco (a Sunday in 2026)
		"2027-10-04": false, // San Francesco on a Monday
		"2025-10-03": true,
	}
	for s, want := range cases {
		d, _ := time.ParseInLocation(time.DateOnly, s, Rome())
		if got := IsWorkingDay(d); got != want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	cases := []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"friday+1 is monday", romeAt(2026, time.March, 13, 10, 0), 1, romeAt(2026, time.March, 16, 10, 0)},
		{"friday+3 across weekend", romeAt(2026, time.March, 13, 10, 0), 3, romeAt(2026, time.March, 18, 10, 0)},
		{"saturday+3", romeAt(2026, time.March, 14, 10, 0), 3, romeAt(2026, time.March, 18, 10, 0)},
		{"sunday+1", romeAt(2026, time.March, 15, 10, 0), 1, romeAt(2026, time.March, 16, 10, 0)},
		{"monday+5 is next monday", romeAt(2026, time.March, 16, 9, 30), 5, romeAt(2026, time.March, 23, 9, 30)},
		{"midweek+1", romeAt(2026, time.March, 17, 23, 59), 1, romeAt(2026, time.March, 18, 23, 59)},
		// Christmas 2026: Thu 24, Fri 25 and Sat 26 holidays, Sun 27.
		{"across christmas", romeAt(2026, time.December, 24, 16, 0), 1, romeAt(2026, time.December, 28, 16, 0)},
		{"across christmas+3", romeAt(2026, time.December, 23, 8, 0), 3, romeAt(2026, time.December, 29, 8, 0)},
		// Christmas 2027: Sat 25, Sun 26 (St Stephen) - a plain weekend.
		{"christmas 2027 on weekend", romeAt(2027, time.December, 24, 12, 0), 1, romeAt(2027, time.December, 27, 12, 0)},
		// Christmas 2025: Thu 25, Fri 26, weekend, Jan 1 Thu.
		{"christmas 2025 and new year", romeAt(2025, time.December, 24, 12, 0), 3, romeAt(2025, time.December, 31, 12, 0)},
		{"christmas 2025 and new year+4", romeAt(2025, time.December, 24, 12, 0), 4, romeAt(2026, time.January, 2, 12, 0)},
		// Easter 2026: Sun Apr 5, Mon Apr 6.
		{"across easter", romeAt(2026, time.April, 3, 11, 0), 1, romeAt(2026, time.April, 7, 11, 0)},
		{"across easter+3", romeAt(2026, time.April, 2, 11, 0), 3, romeAt(2026, time.April, 8, 11, 0)},
		// April 25 2025 (Friday) right after Easter Monday April 21.
		{"easter monday and liberation day", romeAt(2025, time.April, 18, 9, 0), 3, romeAt(2025, time.April, 24, 9, 0)},
		{"easter monday and liberation day+4", romeAt(2025, time.April, 18, 9, 0), 4, romeAt(2025, time.April, 28, 9, 0)},
		// San Francesco 2027 is Monday October 4.
		{"san francesco 2027", romeAt(2027, time.October, 1, 10, 0), 1, romeAt(2027, time.October, 5, 10, 0)},
		{"no san francesco 2024", romeAt(2024, time.October, 3, 10, 0), 1, romeAt(2024, time.October, 4, 10, 0)},
		{"n=0 unchanged", romeAt(2026, time.March, 14, 10, 0), 0, romeAt(2026, time.March, 14, 10, 0)},
		{"negative n unchanged", romeAt(2026, time.March, 14, 10, 0), -2, romeAt(2026, time.March, 14, 10, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AddWorkingDays(c.from, c.n)
			if !got.Equal(c.want) {
				t.Fatalf("AddWorkingDays(%s, %d) = %s, want %s", c.from, c.n, got, c.want)
			}
			if got.Location() != c.from.Location() {
				t.Fatalf("location = %s, want %s", got.Location(), c.from.Location())
			}
		})
	}
}

func TestAddWorkingDaysAcrossDST(t *testing.T) {
	// Spring forward: Sunday 2026-03-29 02:00 -> 03:00.
	from := romeAt(2026, time.March, 27, 10, 0) // Friday, CET
	got := AddWorkingDays(from, 1)
	want := romeAt(2026, time.March, 30, 10, 0) // Monday, CEST
	if !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
	if h, m, _ := got.In(Rome()).Clock(); h != 10 || m != 0 {
		t.Fatalf("wall clock not preserved: %02d:%02d", h, m)
	}
	if d := got.Sub(from); d != 71*time.Hour {
		t.Fatalf("elapsed %s, want 71h across spring forward", d)
	}

	// Fall back: Sunday 2026-10-25 03:00 -> 02:00.
	from = romeAt(2026, time.October, 23, 8, 15) // Friday, CEST
	got = AddWorkingDays(from, 1)
	want = romeAt(2026, time.October, 26, 8, 15) // Monday, CET
	if !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
	if d := got.Sub(from); d != 73*time.Hour {
		t.Fatalf("elapsed %s, want 73h across fall back", d)
	}

	// The same instant given in UTC comes back in UTC, still 08:15 in Rome.
	gotUTC := AddWorkingDays(from.UTC(), 1)
	if gotUTC.Location() != time.UTC {
		t.Fatalf("location = %s, want UTC", gotUTC.Location())
	}
	if !gotUTC.Equal(want) {
		t.Fatalf("got %s, want %s", gotUTC, want)
	}
	if gotUTC.Hour() != 7 { // 08:15 CET is 07:15 UTC
		t.Fatalf("UTC hour = %d, want 7", gotUTC.Hour())
	}
}

func TestAddWorkingDaysUsesRomeDate(t *testing.T) {
	// Friday 2026-03-13 23:30 UTC is already Saturday 00:30 in Rome:
	// +1 working day is Monday 00:30 Rome.
	from := time.Date(2026, time.March, 13, 23, 30, 0, 0, time.UTC)
	got := AddWorkingDays(from, 1)
	want := romeAt(2026, time.March, 16, 0, 30)
	if !got.Equal(want) {
		t.Fatalf("got %s, want %s", got.In(Rome()), want)
	}
}

func TestAddWorkingDaysProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 4))
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	end := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	locs := []*time.Location{Rome(), time.UTC, time.FixedZone("X", -9*3600)}
	for i := 0; i < 20000; i++ {
		from := time.Unix(start+r.Int64N(end-start), r.Int64N(1e9)).In(locs[i%len(locs)])
		n := 1 + r.IntN(30)
		got := AddWorkingDays(from, n)
		if !got.After(from) {
			t.Fatalf("AddWorkingDays(%s, %d) = %s, not after", from, n, got)
		}
		if !IsWorkingDay(got) {
			t.Fatalf("AddWorkingDays(%s, %d) = %s, not a working day", from, n, got)
		}
		if got.Location() != from.Location() {
			t.Fatalf("location changed: %s -> %s", from.Location(), got.Location())
		}
		fr, gr := from.In(Rome()), got.In(Rome())
		fh, fm, fs := fr.Clock()
		gh, gm, gs := gr.Clock()
		// The wall clock is preserved (working days are never DST-change days).
		if fh != gh || fm != gm || fs != gs || fr.Nanosecond() != gr.Nanosecond() {
			t.Fatalf("wall clock changed: %s -> %s", fr, gr)
		}
		// Exactly n working days in (from's date, got's date].
		count := 0
		for d := romeDate(from).addDays(1); ; d = d.addDays(1) {
			if d.isWorkingDay() {
				count++
			}
			if d == romeDate(got) {
				break
			}
		}
		if count != n {
			t.Fatalf("AddWorkingDays(%s, %d) = %s spans %d working days", from, n, got, count)
		}
		// Composition: adding n then m equals adding n+m.
		m := 1 + r.IntN(10)
		if a, b := AddWorkingDays(got, m), AddWorkingDays(from, n+m); !a.Equal(b) {
			t.Fatalf("AddWorkingDays not additive at %s: %d+%d", from, n, m)
		}
	}
}
