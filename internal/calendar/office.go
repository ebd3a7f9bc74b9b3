package calendar

import "time"

// Office is the business calendar of one municipality's offices: the
// national holidays, the municipality's patron-saint day, and the opening
// hours (Monday to Friday). Zero values mean no patron day and a whole-day
// office.
type Office struct {
	PatronMonth time.Month    `json:"patron_month,omitempty"`
	PatronDay   int           `json:"patron_day,omitempty"`
	Opens       time.Duration `json:"opens,omitempty"`  // since midnight, Rome time, e.g. 8h30m
	Closes      time.Duration `json:"closes,omitempty"` // since midnight; 0 = end of day
}

func (o Office) isPatronDay(c civil) bool {
	return o.PatronDay != 0 && c.month == o.PatronMonth && c.day == o.PatronDay
}

func (o Office) isWorkingDay(c civil) bool { return c.isWorkingDay() && !o.isPatronDay(c) }

// IsWorkingDay reports whether d's Rome date is a working day of the office.
func (o Office) IsWorkingDay(d time.Time) bool { return o.isWorkingDay(romeDate(d)) }

func (o Office) closes() time.Duration {
	if o.Closes <= o.Opens {
		return 24 * time.Hour
	}
	return o.Closes
}

// at is the instant of civil date c at offset since midnight, Rome time.
func at(c civil, offset time.Duration) time.Time {
	return time.Date(c.year, c.month, c.day, 0, 0, 0, 0, rome).Add(offset)
}

// Due returns when something received at t is due n working days later.
// What arrives while the office is closed (before opening, after closing,
// at the weekend, on a holiday or the patron's day) counts as received at
// the next opening. The result is the same Rome wall-clock time on the n-th
// working day after that, in t's location. For n < 1, t is returned.
func (o Office) Due(t time.Time, n int) time.Time {
	if n < 1 {
		return t
	}
	local := t.In(rome)
	day := romeDate(t)
	offset := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	switch {
	case !o.isWorkingDay(day) || offset >= o.closes():
		for day = day.addDays(1); !o.isWorkingDay(day); day = day.addDays(1) {
		}
		offset = o.Opens
	case offset < o.Opens:
		offset = o.Opens
	}
	for n > 0 {
		day = day.addDays(1)
		if o.isWorkingDay(day) {
			n--
		}
	}
	return at(day, offset).In(t.Location())
}
