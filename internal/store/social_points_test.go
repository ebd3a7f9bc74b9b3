package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func seededStore(t *testing.T) *store.Store {
	t.Helper()
	_, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return st
}

func TestSocialPointsArePublicWithTheirHours(t *testing.T) {
	st := seededStore(t)
	points, err := st.API().SocialPoints(context.Background(), store.Scope{Kind: "anonymous"}, "tradate")
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 4 {
		t.Fatalf("%d points, want 4 (one hosted by the demo company): %+v", len(points), points)
	}
	var tradate store.SocialPoint
	for _, p := range points {
		if p.ID == "sp-tradate" {
			tradate = p
		}
		if hosted := p.ID == seed.DemoCompanyPointID; hosted != (p.HostCompanyID == seed.DemoCompanyID) ||
			hosted != (p.HostCompanyName == seed.DemoCompany().Name) || (hosted && len(p.Hours) != 2) {
			t.Errorf("point %s: host %q %q, hours %v", p.ID, p.HostCompanyID, p.HostCompanyName, p.Hours)
		}
	}
	var monday []string
	for _, h := range tradate.Hours {
		if h.Weekday == 1 {
			monday = append(monday, h.Opens+"-"+h.Closes)
		}
	}
	if len(monday) != 2 || monday[0] != "09:00-12:30" || monday[1] != "14:00-17:00" || tradate.Phone == "" || tradate.MunicipalityName != "Tradate" {
		t.Fatalf("sp-tradate: %+v", tradate)
	}
	// Only the point's own staff (or the system) may change it.
	vedano := userScope(t, st, "operatore.vedano")
	err = st.InTx(context.Background(), vedano, func(tx pgx.Tx) error {
		tag, err := tx.Exec(context.Background(), `UPDATE social_points SET phone = '0' WHERE id = 'sp-tradate'`)
		if err == nil && tag.RowsAffected() != 0 {
			t.Errorf("operator of Vedano changed the Tradate point")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSlotsFollowHoursSkipHolidaysAndThePast(t *testing.T) {
	rome := calendar.Rome()
	p := store.SocialPoint{SlotMinutes: 30}
	for wd := 1; wd <= 7; wd++ {
		p.Hours = append(p.Hours, store.OpeningHours{Weekday: wd, Opens: "09:00", Closes: "10:00"},
			store.OpeningHours{Weekday: wd, Opens: "14:00", Closes: "15:15"})
	}
	// Thursday 24 December 2026, 09:10: 25 and 26 are holidays.
	now := time.Date(2026, 12, 24, 9, 10, 0, 0, rome)
	slots := p.Slots(now, 4)
	var got []string
	for _, s := range slots {
		got = append(got, s.StartsAt.In(rome).Format("02 15:04"))
	}
	want := []string{"24 09:30", "24 14:00", "24 14:30", "27 09:00", "27 09:30", "27 14:00", "27 14:30"}
	if len(got) != len(want) {
		t.Fatalf("slots %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slots %v, want %v", got, want)
		}
	}
	if d := slots[0].EndsAt.Sub(slots[0].StartsAt); d != 30*time.Minute {
		t.Fatalf("slot length %v", d)
	}
}

func TestAppointmentsTenancySlotAndLimit(t *testing.T) {
	ctx := context.Background()
	st := seededStore(t)
	api := st.API()
	maria, giovanni := userScope(t, st, "cittadino.tradate"), userScope(t, st, "cittadino.vedano")
	now := time.Now()
	at := func(days int) time.Time { return now.Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Hour) }
	book := func(who store.Scope, point string, startsAt time.Time) (store.AppointmentView, error) {
		v, _, err := api.BookAppointment(ctx, who, store.BookInput{ID: uuid.NewString(), PointID: point, CitizenID: who.UserID,
			StartsAt: startsAt, EndsAt: startsAt.Add(30 * time.Minute), Topic: "affitto", Now: now})
		return v, err
	}
	a1, err := book(maria, "sp-tradate", at(2))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := book(maria, "sp-vedano-olona", at(3))
	if err != nil {
		t.Fatal(err)
	}
	// The same slot again, by someone else: the database refuses it.
	if _, err := book(giovanni, "sp-tradate", at(2)); !isConflict(err, "slot_taken") {
		t.Fatalf("second booking of a slot: %v", err)
	}
	if _, err := book(maria, "sp-tradate", at(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := book(maria, "sp-tradate", at(5)); !isConflict(err, "too_many_appointments") {
		t.Fatalf("fourth future booking: %v", err)
	}

	// Who sees what.
	visible := func(username string) map[string]bool {
		items, err := api.Appointments(ctx, userScope(t, st, username), store.AppointmentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, a := range items {
			out[a.ID] = true
		}
		return out
	}
	if v := visible("operatore.tradate"); !v[a1.ID] || v[a2.ID] || len(v) != 2 {
		t.Errorf("operatore.tradate sees %v", v)
	}
	if v := visible("operatore.vedano"); v[a1.ID] || !v[a2.ID] || len(v) != 1 {
		t.Errorf("operatore.vedano sees %v", v)
	}
	if v := visible("supervisore"); len(v) != 3 {
		t.Errorf("the supervisor sees %v", v)
	}
	if v := visible("supervisore.padova"); len(v) != 0 {
		t.Errorf("another district's supervisor sees %v", v)
	}
	if v := visible("cittadino.vedano"); len(v) != 0 {
		t.Errorf("another citizen sees %v", v)
	}
	if _, err := api.Appointment(ctx, userScope(t, st, "operatore.vedano"), a1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("operatore.vedano reads a Tradate appointment: %v", err)
	}

	// A cancelled booking frees its slot and the citizen's quota.
	if err := st.CloseAppointment(ctx, store.CloseAppointmentInput{ID: a1.ID, Status: store.AppointmentCancelled, By: "cittadino.tradate",
		Reason: "imprevisto", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseAppointment(ctx, store.CloseAppointmentInput{ID: a1.ID, Status: store.AppointmentAttended, By: "x", At: now}); !isConflict(err, "appointment_closed") {
		t.Fatalf("closing a cancelled appointment as attended: %v", err)
	}
	if _, err := book(giovanni, "sp-tradate", at(2)); err != nil {
		t.Fatalf("booking a freed slot: %v", err)
	}
	if _, err := book(maria, "sp-tradate", at(6)); err != nil {
		t.Fatalf("booking after a cancellation: %v", err)
	}
}

func isConflict(err error, code string) bool {
	var c *store.ConflictError
	return errors.As(err, &c) && c.Code == code
}
