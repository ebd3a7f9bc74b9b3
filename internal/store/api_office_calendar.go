package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// AuditOfficeCalendar is the audit action of a change to a municipality's
// office calendar.
const AuditOfficeCalendar = "office_calendar"

// OfficeCalendar is a municipality's office calendar as supervisors set it
// (migration 005): the patron saint and their day, and the opening hours
// ("HH:MM", Rome time). Nil members are not set: no patron day, an office
// open all day. The case workflows read it through LoadCase when a case
// starts, so due dates of tasks opened afterwards follow it; existing due
// dates are not changed.
type OfficeCalendar struct {
	Municipality string  `json:"municipality"`
	Name         string  `json:"name"`
	PatronSaint  *string `json:"patron_saint"`
	PatronDay    *int    `json:"patron_day"`
	PatronMonth  *int    `json:"patron_month"`
	OfficeOpens  *string `json:"office_opens"`
	OfficeCloses *string `json:"office_closes"`
}

const officeCalendarSelect = `SELECT id, name, patron_saint, patron_day, patron_month,
		to_char(office_opens, 'HH24:MI'), to_char(office_closes, 'HH24:MI')
	FROM municipalities`

func scanOfficeCalendar(row pgx.Row) (OfficeCalendar, error) {
	var o OfficeCalendar
	err := row.Scan(&o.Municipality, &o.Name, &o.PatronSaint, &o.PatronDay, &o.PatronMonth, &o.OfficeOpens, &o.OfficeCloses)
	return o, err
}

// OfficeCalendars lists the office calendars of the municipalities of
// scope's district, by name.
func (a API) OfficeCalendars(ctx context.Context, scope Scope) ([]OfficeCalendar, error) {
	out := []OfficeCalendar{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, officeCalendarSelect+` WHERE district_id = $1 ORDER BY name`, scope.District)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOfficeCalendar(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// OfficeCalendarOf reads the office calendar of a municipality of scope's
// district (ErrNotFound otherwise).
func (a API) OfficeCalendarOf(ctx context.Context, scope Scope, municipality string) (OfficeCalendar, error) {
	var o OfficeCalendar
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		o, err = scanOfficeCalendar(tx.QueryRow(ctx, officeCalendarSelect+` WHERE id = $1 AND district_id = $2`,
			municipality, scope.District))
		return err
	})
	return o, MapError(err)
}

// SetOfficeCalendar replaces the office calendar of a municipality of
// scope's district (ErrNotFound otherwise) and returns it as stored. The
// caller has checked the values; the table's constraints check them again.
func (a API) SetOfficeCalendar(ctx context.Context, scope Scope, o OfficeCalendar) (OfficeCalendar, error) {
	var after OfficeCalendar
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		after, err = scanOfficeCalendar(tx.QueryRow(ctx, `UPDATE municipalities SET patron_saint = $3, patron_day = $4,
				patron_month = $5, office_opens = $6::time, office_closes = $7::time
			WHERE id = $1 AND district_id = $2
			RETURNING id, name, patron_saint, patron_day, patron_month,
				to_char(office_opens, 'HH24:MI'), to_char(office_closes, 'HH24:MI')`,
			o.Municipality, scope.District, o.PatronSaint, o.PatronDay, o.PatronMonth, o.OfficeOpens, o.OfficeCloses))
		return err
	})
	return after, MapError(err)
}
