// Package calendar holds pure, deterministic date arithmetic for Italian public
// administration deadlines: Easter, national public holidays and working days,
// all evaluated on the civil date in Europe/Rome.
//
// Every function here is safe to call from Temporal workflow code: nothing reads
// the clock, touches the file system or depends on mutable global state. The
// Europe/Rome location is loaded once at package initialisation, from the time
// zone database embedded in the binary when the host has none.
package calendar

import (
	"time"
	_ "time/tzdata" // embed the zone database so Europe/Rome loads everywhere
)

// rome is loaded once and never modified afterwards.
var rome = mustLoadRome()

func mustLoadRome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		// Unreachable: time/tzdata is embedded above.
		panic("calendar: cannot load Europe/Rome: " + err.Error())
	}
	return loc
}

// Rome returns the Europe/Rome location.
func Rome() *time.Location { return rome }

// Easter returns the month and day of Gregorian Easter Sunday in year, using the
// anonymous Gregorian algorithm (Meeus/Jones/Butcher). It is valid for every
// year of the Gregorian calendar (1583 onwards).
func Easter(year int) (month time.Month, day int) {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month = time.Month((h + l - 7*m + 114) / 31)
	day = (h+l-7*m+114)%31 + 1
	return month, day
}

// civil is a calendar date without time of day or location.
type civil struct {
	year  int
	month time.Month
	day   int
}

// romeDate returns the civil date of t in Europe/Rome.
func romeDate(t time.Time) civil {
	y, m, d := t.In(rome).Date()
	return civil{y, m, d}
}

// addDays returns the date n days after c (n may be negative). Arithmetic is
// done at noon UTC, so it is immune to daylight-saving transitions.
func (c civil) addDays(n int) civil {
	y, m, d := time.Date(c.year, c.month, c.day+n, 12, 0, 0, 0, time.UTC).Date()
	return civil{y, m, d}
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.year, c.month, c.day, 12, 0, 0, 0, time.UTC).Weekday()
}

// fixedHolidays are the national public holidays that fall on the same date
// every year (Law 260/1949 and later amendments).
var fixedHolidays = [...]struct {
	month time.Month
	day   int
}{
	{time.January, 1},   // Capodanno
	{time.January, 6},   // Epifania
	{time.April, 25},    // Festa della Liberazione
	{time.May, 1},       // Festa del Lavoro
	{time.June, 2},      // Festa della Repubblica
	{time.August, 15},   // Ferragosto / Assunzione
	{time.November, 1},  // Ognissanti
	{time.December, 8},  // Immacolata Concezione
	{time.December, 25}, // Natale
	{time.December, 26}, // Santo Stefano
}

// sanFrancescoFrom is the first year in which October 4 (San Francesco
// d'Assisi, patron saint of Italy) is again a national public holiday.
const sanFrancescoFrom = 2026

func (c civil) isHoliday() bool {
	for _, h := range fixedHolidays {
		if c.month == h.month && c.day == h.day {
			return true
		}
	}
	if c.month == time.October && c.day == 4 && c.year >= sanFrancescoFrom {
		return true
	}
	em, ed := Easter(c.year)
	easter := civil{c.year, em, ed}
	return c == easter || c == easter.addDays(1) // Pasqua, Lunedì dell'Angelo
}

func (c civil) isWorkingDay() bool {
	switch c.weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.isHoliday()
}

// IsHoliday reports whether d's date in Europe/Rome is an Italian national
// public holiday: January 1 and 6, Easter Sunday, Easter Monday, April 25,
// May 1, June 2, August 15, November 1, December 8, 25 and 26, and October 4
// from 2026 on. Local patron-saint days are not included.
func IsHoliday(d time.Time) bool { return romeDate(d).isHoliday() }

// IsWorkingDay reports whether d's date in Europe/Rome is neither a Saturday,
// nor a Sunday, nor a national public holiday.
func IsWorkingDay(d time.Time) bool { return romeDate(d).isWorkingDay() }

// AddWorkingDays returns the instant at the same Europe/Rome wall-clock time as
// t on the n-th working day strictly after t's Rome date, expressed in t's
// location.
//
// Counting ignores whether t's own date is a working day: the days after it are
// examined one by one and only working days are counted. So Friday 10:00 + 1 is
// Monday 10:00, Friday 10:00 + 3 and Saturday 10:00 + 3 are both Wednesday
// 10:00 (no holidays in between), and a Sunday + 1 is Monday.
//
// The wall clock is preserved across daylight-saving changes (the elapsed
// duration is then 23 or 25 hours longer than whole days). Italian DST changes
// happen on Sundays, so the result never falls on a day whose wall clock skips
// or repeats; should it ever, time.Date's normalisation applies.
//
// For n < 1, t is returned unchanged.
func AddWorkingDays(t time.Time, n int) time.Time {
	if n < 1 {
		return t
	}
	local := t.In(rome)
	day := romeDate(t)
	for n > 0 {
		day = day.addDays(1)
		if day.isWorkingDay() {
			n--
		}
	}
	hh, mm, ss := local.Clock()
	return time.Date(day.year, day.month, day.day, hh, mm, ss, local.Nanosecond(), rome).In(t.Location())
}
