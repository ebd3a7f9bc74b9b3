package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/contract"
)

// Social Points (issue 4): listening desks with weekly opening hours, and
// the appointments citizens book there (one slot, one booking, enforced by
// the appointments_slot_taken index).

// OpeningHours is one interval of a weekday (ISO: 1 = Monday … 7 = Sunday),
// "09:00" to "12:30" in Europe/Rome.
type OpeningHours struct {
	Weekday int    `json:"weekday"`
	Opens   string `json:"opens"`
	Closes  string `json:"closes"`
}

// SocialPoint is a listening desk: public data.
type SocialPoint struct {
	ID               string         `json:"id"`
	District         string         `json:"district"`
	Municipality     string         `json:"municipality"`
	MunicipalityName string         `json:"municipality_name"`
	Name             string         `json:"name"`
	Address          string         `json:"address"`
	Phone            string         `json:"phone,omitempty"`
	Email            string         `json:"email,omitempty"`
	SlotMinutes      int            `json:"slot_minutes"`
	Hours            []OpeningHours `json:"hours"`
	// HostCompanyID is the company hosting the point (migration 034), if
	// any; its welfare manager keeps the point's hours.
	HostCompanyID   string `json:"host_company_id,omitempty"`
	HostCompanyName string `json:"host_company_name,omitempty"`
}

// Appointment statuses, mirrored by the appointment workflow (defined in
// internal/contract).
const (
	AppointmentBooked      = contract.AppointmentBooked
	AppointmentAttended    = contract.AppointmentAttended
	AppointmentNotAttended = contract.AppointmentNotAttended
	AppointmentCancelled   = contract.AppointmentCancelled
	AppointmentNoShow      = contract.AppointmentNoShow
)

// PersonalPlan is what an operator writes after meeting a citizen (defined
// in internal/contract: it travels in the appointment workflow's updates).
type PersonalPlan = contract.PersonalPlan

// AppointmentView is one appointment as the API shows it.
type AppointmentView struct {
	ID               string        `json:"id"`
	PointID          string        `json:"point_id"`
	PointName        string        `json:"point_name"`
	PointAddress     string        `json:"point_address"`
	Municipality     string        `json:"municipality"`
	MunicipalityName string        `json:"municipality_name"`
	CitizenID        int64         `json:"-"`
	CitizenPublicID  string        `json:"citizen_id"` // the citizen's public id
	CitizenName      string        `json:"citizen_name"`
	CitizenEmail     string        `json:"-"`
	StartsAt         time.Time     `json:"starts_at"`
	EndsAt           time.Time     `json:"ends_at"`
	Topic            string        `json:"topic"`
	Status           string        `json:"status"`
	WorkflowID       string        `json:"-"`
	ConfirmedAt      *time.Time    `json:"confirmed_at,omitempty"`
	RemindedAt       *time.Time    `json:"reminded_at,omitempty"`
	ClosedAt         *time.Time    `json:"closed_at,omitempty"`
	ClosedBy         string        `json:"closed_by,omitempty"`
	CancelReason     string        `json:"cancel_reason,omitempty"`
	Plan             *PersonalPlan `json:"plan,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
}

// MaxFutureAppointments is how many future bookings a citizen may hold.
const MaxFutureAppointments = 3

func scanHours(rows pgx.Rows, byPoint map[string]*SocialPoint) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		var h OpeningHours
		if err := rows.Scan(&id, &h.Weekday, &h.Opens, &h.Closes); err != nil {
			return err
		}
		if p := byPoint[id]; p != nil {
			p.Hours = append(p.Hours, h)
		}
	}
	return rows.Err()
}

// SocialPoints lists the points of a district ("" = every district), by
// municipality and name, with their hours. Anyone may read them.
func (a API) SocialPoints(ctx context.Context, scope Scope, district string) ([]SocialPoint, error) {
	var out []SocialPoint
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT p.id, p.district_id, p.municipality_id, m.name, p.name, p.address, p.phone, p.email,
				p.slot_minutes, coalesce(p.host_company_id, ''), coalesce(social_point_host_name(p.host_company_id), '')
			FROM social_points p JOIN municipalities m ON m.id = p.municipality_id
			WHERE $1 = '' OR p.district_id = $1 ORDER BY m.name, p.name, p.id`, district)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p SocialPoint
			if err := rows.Scan(&p.ID, &p.District, &p.Municipality, &p.MunicipalityName, &p.Name, &p.Address,
				&p.Phone, &p.Email, &p.SlotMinutes, &p.HostCompanyID, &p.HostCompanyName); err != nil {
				rows.Close()
				return err
			}
			p.Hours = []OpeningHours{}
			out = append(out, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		byPoint := map[string]*SocialPoint{}
		ids := make([]string, 0, len(out))
		for i := range out {
			byPoint[out[i].ID] = &out[i]
			ids = append(ids, out[i].ID)
		}
		hours, err := tx.Query(ctx, `SELECT point_id, weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM social_point_hours
			WHERE point_id = ANY($1) ORDER BY point_id, weekday, opens`, ids)
		if err != nil {
			return err
		}
		return scanHours(hours, byPoint)
	})
	return out, MapError(err)
}

// SocialPoint reads one point with its hours (ErrNotFound when missing).
func (a API) SocialPoint(ctx context.Context, scope Scope, id string) (SocialPoint, error) {
	var p SocialPoint
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT p.id, p.district_id, p.municipality_id, m.name, p.name, p.address, p.phone,
				p.email, p.slot_minutes, coalesce(p.host_company_id, ''), coalesce(social_point_host_name(p.host_company_id), '')
			FROM social_points p JOIN municipalities m ON m.id = p.municipality_id WHERE p.id = $1`, id).Scan(
			&p.ID, &p.District, &p.Municipality, &p.MunicipalityName, &p.Name, &p.Address, &p.Phone, &p.Email,
			&p.SlotMinutes, &p.HostCompanyID, &p.HostCompanyName); err != nil {
			return err
		}
		p.Hours = []OpeningHours{}
		rows, err := tx.Query(ctx, `SELECT point_id, weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI') FROM social_point_hours
			WHERE point_id = $1 ORDER BY weekday, opens`, id)
		if err != nil {
			return err
		}
		return scanHours(rows, map[string]*SocialPoint{id: &p})
	})
	return p, MapError(err)
}

// UpsertSocialPoint writes a point and replaces its opening hours (seed and
// administration).
func UpsertSocialPoint(ctx context.Context, tx pgx.Tx, p SocialPoint) error {
	if p.SlotMinutes == 0 {
		p.SlotMinutes = 30
	}
	if _, err := tx.Exec(ctx, `INSERT INTO social_points (id, district_id, municipality_id, name, address, phone, email, slot_minutes, host_company_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''))
		ON CONFLICT (id) DO UPDATE SET district_id = EXCLUDED.district_id, municipality_id = EXCLUDED.municipality_id,
			name = EXCLUDED.name, address = EXCLUDED.address, phone = EXCLUDED.phone, email = EXCLUDED.email,
			slot_minutes = EXCLUDED.slot_minutes, host_company_id = EXCLUDED.host_company_id`,
		p.ID, p.District, p.Municipality, p.Name, p.Address, p.Phone, p.Email, p.SlotMinutes, p.HostCompanyID); err != nil {
		return fmt.Errorf("social point %s: %w", p.ID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM social_point_hours WHERE point_id = $1`, p.ID); err != nil {
		return err
	}
	for _, h := range p.Hours {
		if _, err := tx.Exec(ctx, `INSERT INTO social_point_hours (point_id, weekday, opens, closes) VALUES ($1, $2, $3::time, $4::time)`,
			p.ID, h.Weekday, h.Opens, h.Closes); err != nil {
			return fmt.Errorf("social point %s hours %v: %w", p.ID, h, err)
		}
	}
	return nil
}

// Slot is a bookable interval.
type Slot struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// parseClock reads "09:30" (or "24:00") as minutes after midnight.
func parseClock(s string) (int, bool) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m > 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Slots lists the point's slots that start after now and on the days from
// now's Rome date through days-1 days later: consecutive slot_minutes
// intervals inside each opening interval, never on a national holiday.
// It does not know which are taken.
func (p SocialPoint) Slots(now time.Time, days int) []Slot {
	rome := calendar.Rome()
	minutes := p.SlotMinutes
	if minutes <= 0 {
		minutes = 30
	}
	local := now.In(rome)
	var out []Slot
	for d := 0; d < days; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 12, 0, 0, 0, rome)
		if calendar.IsHoliday(day) {
			continue
		}
		weekday := int(day.Weekday())
		if weekday == 0 {
			weekday = 7
		}
		for _, h := range p.Hours {
			if h.Weekday != weekday {
				continue
			}
			from, ok1 := parseClock(h.Opens)
			to, ok2 := parseClock(h.Closes)
			if !ok1 || !ok2 {
				continue
			}
			for m := from; m+minutes <= to; m += minutes {
				start := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, rome)
				if !start.After(now) {
					continue
				}
				out = append(out, Slot{StartsAt: start, EndsAt: start.Add(time.Duration(minutes) * time.Minute)})
			}
		}
	}
	return out
}

// TakenSlots returns the start times of the point's bookings (not
// cancelled) between from and to. It reads under the system scope and
// returns no personal data: only which slots are taken.
func (a API) TakenSlots(ctx context.Context, pointID string, from, to time.Time) (map[time.Time]bool, error) {
	taken := map[time.Time]bool{}
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT starts_at FROM appointments
			WHERE point_id = $1 AND status <> 'cancelled' AND starts_at >= $2 AND starts_at < $3`, pointID, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t time.Time
			if err := rows.Scan(&t); err != nil {
				return err
			}
			taken[t.UTC()] = true
		}
		return rows.Err()
	})
	return taken, MapError(err)
}

// BookInput is a citizen's booking, already checked against the point's
// free slots by the caller.
type BookInput struct {
	ID             string
	PointID        string
	CitizenID      int64
	StartsAt       time.Time
	EndsAt         time.Time
	Topic          string
	IdempotencyKey string
	Now            time.Time
}

// BookAppointment writes a booking under the citizen's scope. A slot already
// taken is a conflict "slot_taken" (the database's partial unique index
// decides between racing citizens); more than MaxFutureAppointments future
// bookings is "too_many_appointments". The same idempotency key returns
// the earlier booking (replayed true).
func (a API) BookAppointment(ctx context.Context, scope Scope, in BookInput) (AppointmentView, bool, error) {
	var v AppointmentView
	replayed := false
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		// One booking at a time per citizen: the limit is counted, not raced.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('appointments:' || $1::bigint, 0))`,
			in.CitizenID); err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			var id string
			err := tx.QueryRow(ctx, `SELECT id::text FROM appointments WHERE citizen_id = $1 AND idempotency_key = $2`,
				in.CitizenID, in.IdempotencyKey).Scan(&id)
			if err == nil {
				replayed = true
				v, err = appointmentTx(ctx, tx, id)
				return err
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var future int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM appointments WHERE citizen_id = $1 AND status = 'booked'
			AND starts_at > $2`, in.CitizenID, in.Now).Scan(&future); err != nil {
			return err
		}
		if future >= MaxFutureAppointments {
			return Conflict("too_many_appointments", fmt.Sprintf("you already have %d future appointments: cancel one first", future))
		}
		var key any
		if in.IdempotencyKey != "" {
			key = in.IdempotencyKey
		}
		tag, err := tx.Exec(ctx, `INSERT INTO appointments (id, point_id, district_id, municipality_id, citizen_id,
				starts_at, ends_at, topic, status, workflow_id, idempotency_key)
			SELECT $1, p.id, p.district_id, p.municipality_id, $3, $4, $5, $6, 'booked', $7, $8
			FROM social_points p WHERE p.id = $2
			ON CONFLICT (point_id, starts_at) WHERE status <> 'cancelled' DO NOTHING`,
			in.ID, in.PointID, in.CitizenID, in.StartsAt, in.EndsAt, in.Topic, contract.AppointmentWorkflowID(in.ID), key)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return Conflict("slot_taken", "this slot has just been booked by someone else: choose another")
		}
		v, err = appointmentTx(ctx, tx, in.ID)
		return err
	})
	return v, replayed, MapError(err)
}

const appointmentSelect = `SELECT a.id::text, a.point_id, p.name, p.address, a.municipality_id, m.name, a.citizen_id, u.public_id::text,
		u.display_name, coalesce(u.email, ''), a.starts_at, a.ends_at, a.topic, a.status, a.workflow_id, a.confirmed_at,
		a.reminded_at, a.closed_at, coalesce(a.closed_by, ''), coalesce(a.cancel_reason, ''), a.plan, a.created_at
	FROM appointments a
	JOIN social_points p ON p.id = a.point_id
	JOIN municipalities m ON m.id = a.municipality_id
	JOIN users u ON u.id = a.citizen_id`

func scanAppointment(row pgx.Row) (AppointmentView, error) {
	var v AppointmentView
	var plan []byte
	err := row.Scan(&v.ID, &v.PointID, &v.PointName, &v.PointAddress, &v.Municipality, &v.MunicipalityName,
		&v.CitizenID, &v.CitizenPublicID, &v.CitizenName, &v.CitizenEmail, &v.StartsAt, &v.EndsAt, &v.Topic, &v.Status, &v.WorkflowID,
		&v.ConfirmedAt, &v.RemindedAt, &v.ClosedAt, &v.ClosedBy, &v.CancelReason, &plan, &v.CreatedAt)
	if err != nil {
		return v, err
	}
	if len(plan) > 0 {
		var p PersonalPlan
		if err := json.Unmarshal(plan, &p); err != nil {
			return v, err
		}
		v.Plan = &p
	}
	return v, nil
}

func appointmentTx(ctx context.Context, tx pgx.Tx, id string) (AppointmentView, error) {
	return scanAppointment(tx.QueryRow(ctx, appointmentSelect+` WHERE a.id::text = $1`, id))
}

// Appointment reads one appointment visible to scope (ErrNotFound otherwise).
func (a API) Appointment(ctx context.Context, scope Scope, id string) (AppointmentView, error) {
	var v AppointmentView
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		v, err = appointmentTx(ctx, tx, id)
		return err
	})
	return v, MapError(err)
}

// AppointmentFilter narrows a list of appointments: From/To bound the start
// (zero: unbounded), PointID one point, Status one status ("" = all).
type AppointmentFilter struct {
	From, To time.Time
	PointID  string
	Status   string
	Limit    int // 200 when not positive, at most 500
}

// Appointments lists the appointments visible to scope (a citizen: their
// own; an operator: their municipality's points; a supervisor: the
// district's), by start time.
func (a API) Appointments(ctx context.Context, scope Scope, f AppointmentFilter) ([]AppointmentView, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 500)
	where := ` WHERE true`
	args := pgx.NamedArgs{"limit": f.Limit}
	if !f.From.IsZero() {
		where += ` AND a.starts_at >= @from`
		args["from"] = f.From
	}
	if !f.To.IsZero() {
		where += ` AND a.starts_at < @to`
		args["to"] = f.To
	}
	if f.PointID != "" {
		where += ` AND a.point_id = @point`
		args["point"] = f.PointID
	}
	if f.Status != "" {
		where += ` AND a.status = @status`
		args["status"] = f.Status
	}
	out := []AppointmentView{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, appointmentSelect+where+` ORDER BY a.starts_at, a.point_id, a.id LIMIT @limit`, args)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanAppointment(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// ---- writes of the appointment workflow (system scope, idempotent) ----

// ConfirmAppointment records that the workflow took the booking in hand.
func (s *Store) ConfirmAppointment(ctx context.Context, id string, at time.Time) (AppointmentView, error) {
	var v AppointmentView
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE appointments SET confirmed_at = coalesce(confirmed_at, $2) WHERE id::text = $1`,
			id, at); err != nil {
			return err
		}
		var err error
		v, err = appointmentTx(ctx, tx, id)
		return err
	})
	return v, MapError(err)
}

// MarkAppointmentReminded records the reminder sent the day before.
func (s *Store) MarkAppointmentReminded(ctx context.Context, id string, at time.Time) error {
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE appointments SET reminded_at = coalesce(reminded_at, $2) WHERE id::text = $1`, id, at)
		return err
	}))
}

// CloseAppointmentInput closes a booking: cancelled (Reason), attended or
// not attended (Plan, optional), or no-show (defined in internal/contract:
// the appointment workflow passes it to its activity).
type CloseAppointmentInput = contract.CloseAppointmentInput

// CloseAppointment moves a booked appointment to its final status; a retry
// of the same close changes nothing, a different close of an appointment
// already closed is a conflict "appointment_closed".
func (s *Store) CloseAppointment(ctx context.Context, in CloseAppointmentInput) error {
	var plan any
	if in.Plan != nil && !in.Plan.Empty() {
		raw, err := json.Marshal(in.Plan)
		if err != nil {
			return err
		}
		plan = raw
	}
	return MapError(s.InTx(ctx, System, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE appointments SET status = $2, closed_at = $3, closed_by = $4,
				cancel_reason = nullif($5, ''), plan = $6
			WHERE id::text = $1 AND status = 'booked'`, in.ID, in.Status, in.At, in.By, in.Reason, plan)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM appointments WHERE id::text = $1`, in.ID).Scan(&status); err != nil {
			return err
		}
		if status != in.Status {
			return Conflict("appointment_closed", "the appointment is already "+status)
		}
		return nil
	}))
}

// pointKept is nil when the acting user keeps point id's hours (the
// welfare manager of the company hosting it, a supervisor of its
// district), ErrNotFound otherwise.
func pointKept(ctx context.Context, tx pgx.Tx, id string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM social_points p WHERE p.id = $1 AND (
			(sportello_scope() = 'welfare_manager' AND p.host_company_id = sportello_company())
			OR (sportello_scope() = 'supervisor' AND p.district_id = sportello_district())))`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// KeptSocialPoint is point id when the acting user keeps its hours
// (pointKept), ErrNotFound otherwise.
func (a API) KeptSocialPoint(ctx context.Context, scope Scope, id string) (SocialPoint, error) {
	if err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error { return pointKept(ctx, tx, id) }); err != nil {
		return SocialPoint{}, MapError(err)
	}
	return a.SocialPoint(ctx, scope, id)
}

// SetSocialPointHours replaces the opening hours of point id (checked by
// the caller: weekdays, clocks, no overlap) as scope: the welfare manager
// of the company hosting it, or a supervisor of its district (migration
// 034). ErrNotFound for any other point or caller.
func (a API) SetSocialPointHours(ctx context.Context, scope Scope, id string, hours []OpeningHours) (SocialPoint, error) {
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := pointKept(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM social_point_hours WHERE point_id = $1`, id); err != nil {
			return err
		}
		for _, h := range hours {
			if _, err := tx.Exec(ctx, `INSERT INTO social_point_hours (point_id, weekday, opens, closes) VALUES ($1, $2, $3::time, $4::time)`,
				id, h.Weekday, h.Opens, h.Closes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SocialPoint{}, MapError(err)
	}
	return a.SocialPoint(ctx, scope, id)
}
