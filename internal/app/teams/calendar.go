package teams

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"sportello/internal/app"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

// The municipalities' office calendars (issue 4): supervisors set each
// municipality's patron-saint day and office hours, which due dates of new
// tasks follow (the case workflow reads them when the case starts). Every
// change is audited with the values before and after.

// OfficeCalendarRequest is a whole calendar
// (PUT /api/v1/municipalities/{id}/calendar): a missing or null member
// clears it.
type OfficeCalendarRequest struct {
	PatronSaint  *string `json:"patron_saint"`
	PatronDay    *int    `json:"patron_day"`
	PatronMonth  *int    `json:"patron_month"`
	OfficeOpens  *string `json:"office_opens"`
	OfficeCloses *string `json:"office_closes"`
}

// daysIn is the number of days of month in a leap year (a patron's day on
// 29 February comes once every four years).
func daysIn(month int) int {
	return time.Date(2024, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// clockTime parses "HH:MM" (24-hour).
func clockTime(s string) (time.Duration, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

// validate checks and normalises the request into a calendar for
// municipality; problems point into the body.
func (req OfficeCalendarRequest) validate(municipality string) (store.OfficeCalendar, []app.FieldError) {
	o := store.OfficeCalendar{Municipality: municipality}
	var fields []app.FieldError
	trim := func(p *string) *string {
		if p == nil || strings.TrimSpace(*p) == "" {
			return nil
		}
		v := strings.TrimSpace(*p)
		return &v
	}
	o.PatronSaint, o.OfficeOpens, o.OfficeCloses = trim(req.PatronSaint), trim(req.OfficeOpens), trim(req.OfficeCloses)
	o.PatronDay, o.PatronMonth = req.PatronDay, req.PatronMonth

	if o.PatronSaint != nil && utf8.RuneCountInString(*o.PatronSaint) > 100 {
		fields = append(fields, app.Field("/patron_saint", "too_long", "teams.err.at_most_100"))
	}
	monthOK := o.PatronMonth == nil || (*o.PatronMonth >= 1 && *o.PatronMonth <= 12)
	if !monthOK {
		fields = append(fields, app.Field("/patron_month", "range", "teams.err.month_range"))
	}
	switch {
	case o.PatronDay == nil:
	case *o.PatronDay < 1 || *o.PatronDay > 31:
		fields = append(fields, app.Field("/patron_day", "range", "teams.err.patron_day_range"))
	case monthOK && o.PatronMonth != nil && *o.PatronDay > daysIn(*o.PatronMonth):
		it := i18n.Month(i18n.IT, *o.PatronMonth)
		month := i18n.Texts{IT: strings.ToUpper(it[:1]) + it[1:], EN: i18n.Month(i18n.EN, *o.PatronMonth)}
		fields = append(fields, app.Field("/patron_day", "no_such_date", "teams.err.no_such_date", month, daysIn(*o.PatronMonth)))
	}
	if (o.PatronDay == nil) != (o.PatronMonth == nil) {
		ptr := "/patron_month"
		if o.PatronDay == nil {
			ptr = "/patron_day"
		}
		fields = append(fields, app.Field(ptr, "required", "teams.err.patron_day_half"))
	}
	if o.PatronSaint == nil && o.PatronDay != nil {
		fields = append(fields, app.Field("/patron_saint", "required", "teams.err.patron_saint_required"))
	}
	if o.PatronSaint != nil && o.PatronDay == nil && o.PatronMonth == nil {
		fields = append(fields, app.Field("/patron_day", "required", "teams.err.patron_day_required"))
	}

	opens, okOpens := time.Duration(0), true
	if o.OfficeOpens != nil {
		if opens, okOpens = clockTime(*o.OfficeOpens); !okOpens {
			fields = append(fields, app.Field("/office_opens", "format", "teams.err.time_format"))
		}
	}
	closes, okCloses := time.Duration(0), true
	if o.OfficeCloses != nil {
		if closes, okCloses = clockTime(*o.OfficeCloses); !okCloses {
			fields = append(fields, app.Field("/office_closes", "format", "teams.err.office_closes_format"))
		}
	}
	switch {
	case (o.OfficeOpens == nil) != (o.OfficeCloses == nil):
		ptr := "/office_closes"
		if o.OfficeOpens == nil {
			ptr = "/office_opens"
		}
		fields = append(fields, app.Field(ptr, "required", "teams.err.opening_hours_half"))
	case o.OfficeOpens != nil && okOpens && okCloses && closes <= opens:
		fields = append(fields, app.Field("/office_closes", "before_opening", "teams.err.before_opening"))
	}
	return o, fields
}

// OfficeCalendars lists the calendars of the municipalities visible to user.
func (s Service) OfficeCalendars(ctx context.Context, user store.UserView) ([]store.OfficeCalendar, error) {
	return s.API.OfficeCalendars(ctx, user.Scope())
}

// OfficeCalendar reads the calendar of a municipality visible to user
// (NotFound otherwise).
func (s Service) OfficeCalendar(ctx context.Context, user store.UserView, municipality string) (store.OfficeCalendar, error) {
	o, err := s.API.OfficeCalendarOf(ctx, user.Scope(), municipality)
	if errors.Is(err, store.ErrNotFound) {
		return o, app.Missing("municipality")
	}
	return o, err
}

// SetOfficeCalendar checks and stores a municipality's office calendar for
// a supervisor, with an audit row holding the values before and after.
// Problems are Invalid with pointers into the request; a municipality
// outside the district is NotFound.
func (s Service) SetOfficeCalendar(ctx context.Context, user store.UserView, municipality string, req OfficeCalendarRequest) (store.OfficeCalendar, error) {
	o, fields := req.validate(municipality)
	if len(fields) > 0 {
		return store.OfficeCalendar{}, app.InvalidInput(fields...)
	}
	cur, err := s.OfficeCalendar(ctx, user, municipality)
	if err != nil {
		return store.OfficeCalendar{}, err
	}
	o.Name = cur.Name
	e := store.AuditEntry{Action: store.AuditOfficeCalendar, Municipality: municipality,
		Detail: app.AuditDetail(map[string]any{"before": cur, "after": o})}
	var after store.OfficeCalendar
	err = s.Audited(ctx, user, e, func() error {
		var err error
		after, err = s.API.SetOfficeCalendar(ctx, user.Scope(), o)
		return err
	})
	if err != nil {
		return store.OfficeCalendar{}, err
	}
	return after, nil
}
