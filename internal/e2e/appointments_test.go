package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"sportello/internal/auth"
	"sportello/internal/mailcatcher"
	"sportello/internal/store"
	"sportello/workflows"
)

type slotList struct {
	Items []store.Slot `json:"items"`
}

type appointmentJSON struct {
	ID       string              `json:"id"`
	Status   string              `json:"status"`
	PointID  string              `json:"point_id"`
	StartsAt time.Time           `json:"starts_at"`
	Plan     *store.PersonalPlan `json:"plan"`
}

type errorJSON struct {
	Error struct {
		Code   string `json:"code"`
		Fields []struct {
			Pointer string `json:"pointer"`
		} `json:"fields"`
	} `json:"error"`
}

// freeSlots lists a point's free slots through the public API.
func (s *stack) freeSlots(point string) []store.Slot {
	s.t.Helper()
	var out slotList
	(&session{s: s}).mustCall(http.StatusOK, "GET", "/api/v1/social-points/"+point+"/slots", nil, &out)
	if len(out.Items) < 5 {
		s.t.Fatalf("%s has only %d free slots in 4 weeks", point, len(out.Items))
	}
	return out.Items
}

// addCitizens creates n citizens of Tradate (password "demo") and logs them in.
func (s *stack) addCitizens(n int) []*session {
	s.t.Helper()
	hash, err := auth.HashPassword("demo")
	if err != nil {
		s.t.Fatal(err)
	}
	var out []*session
	for i := range n {
		name := fmt.Sprintf("racer%02d", i)
		if _, err := s.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name,
			district_id, municipality_id, email) VALUES ($1, $2, 'citizen', $3, 'tradate', 'tradate', $4)`,
			name, hash, "Racer "+strconv.Itoa(i), name+"@example.org"); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, s.login(name))
	}
	return out
}

// Ten citizens race for one slot over HTTP: exactly one gets it, the others
// get 409 slot_taken, and the database holds one booking with one workflow.
func TestAppointmentSlotRaceOverHTTP(t *testing.T) {
	s := newStack(t)
	slot := s.freeSlots("sp-tradate")[3]
	racers := s.addCitizens(10)
	codes := make([]int, len(racers))
	errs := make([]errorJSON, len(racers))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = r.call("POST", "/api/v1/appointments", map[string]any{"point_id": "sp-tradate",
				"starts_at": slot.StartsAt.Format(time.RFC3339), "topic": "casa"}, nil, &errs[i])
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
			if errs[i].Error.Code != "slot_taken" {
				t.Errorf("racer %d: 409 %q", i, errs[i].Error.Code)
			}
		default:
			t.Errorf("racer %d: status %d", i, c)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners (%v), want exactly 1", won, codes)
	}
	if n := s.count(`SELECT count(*) FROM appointments WHERE point_id = 'sp-tradate' AND starts_at = $1`, slot.StartsAt); n != 1 {
		t.Fatalf("%d bookings of the slot", n)
	}
	eventually(t, "the winner's workflow to confirm the booking", func() bool {
		return s.count(`SELECT count(*) FROM appointments WHERE confirmed_at IS NOT NULL`) == 1
	})
	// The slot is no longer offered.
	for _, sl := range s.freeSlots("sp-tradate") {
		if sl.StartsAt.Equal(slot.StartsAt) {
			t.Fatal("the booked slot is still listed as free")
		}
	}
}

// The JSON API: limits, field-level problems, tenancy, cancellation rules
// and the audit trail of staff reads and actions.
func TestAppointmentRulesOverHTTP(t *testing.T) {
	s := newStack(t)
	maria := s.login("cittadino.tradate")
	slots := s.freeSlots("sp-tradate")
	var booked []appointmentJSON
	for i := range 3 {
		var a appointmentJSON
		maria.mustCall(http.StatusCreated, "POST", "/api/v1/appointments", map[string]any{"point_id": "sp-tradate",
			"starts_at": slots[i].StartsAt.Format(time.RFC3339)}, &a)
		booked = append(booked, a)
	}
	var e errorJSON
	if c := maria.call("POST", "/api/v1/appointments", map[string]any{"point_id": "sp-tradate",
		"starts_at": slots[4].StartsAt.Format(time.RFC3339)}, nil, &e); c != http.StatusConflict || e.Error.Code != "too_many_appointments" {
		t.Fatalf("fourth booking: %d %+v", c, e)
	}
	for _, bad := range []struct {
		body    map[string]any
		pointer string
	}{
		{map[string]any{"point_id": "sp-tradate", "starts_at": "domani"}, "/starts_at"},
		{map[string]any{"point_id": "sp-nowhere", "starts_at": slots[4].StartsAt.Format(time.RFC3339)}, "/point_id"},
		{map[string]any{"point_id": "sp-tradate", "starts_at": slots[4].StartsAt.Add(7 * time.Minute).Format(time.RFC3339)}, "/starts_at"},
		{map[string]any{"point_id": "sp-tradate", "starts_at": time.Now().Add(-24 * time.Hour).Format(time.RFC3339)}, "/starts_at"},
		{map[string]any{"point_id": "sp-tradate", "starts_at": slots[4].StartsAt.Format(time.RFC3339), "topic": strings.Repeat("x", 1001)}, "/topic"},
	} {
		e = errorJSON{}
		if c := maria.call("POST", "/api/v1/appointments", bad.body, nil, &e); c != http.StatusUnprocessableEntity ||
			len(e.Error.Fields) == 0 || e.Error.Fields[0].Pointer != bad.pointer {
			t.Errorf("%v: %d %+v", bad.body, c, e)
		}
	}

	// A citizen of another district books at their own district's points.
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name, district_id,
		municipality_id) VALUES ('cittadino.padova', $1, 'citizen', 'Paolo Galli', 'alta-padovana', 'limena')`, hash); err != nil {
		t.Fatal(err)
	}
	e = errorJSON{}
	if c := s.login("cittadino.padova").call("POST", "/api/v1/appointments", map[string]any{"point_id": "sp-tradate",
		"starts_at": slots[4].StartsAt.Format(time.RFC3339)}, nil, &e); c != http.StatusUnprocessableEntity || e.Error.Fields[0].Pointer != "/point_id" {
		t.Fatalf("booking in another district: %d %+v", c, e)
	}

	// Tenancy: another municipality's operator does not find it.
	vedano := s.login("operatore.vedano")
	if c := vedano.call("GET", "/api/v1/appointments/"+booked[0].ID, nil, nil, nil); c != http.StatusNotFound {
		t.Fatalf("operatore.vedano reads a Tradate appointment: %d", c)
	}
	op := s.login("operatore.tradate")
	var agenda struct {
		Items []appointmentJSON `json:"items"`
	}
	op.mustCall(http.StatusOK, "GET", "/api/v1/appointments?from="+time.Now().Format(time.DateOnly)+"&to="+
		time.Now().AddDate(0, 0, 28).Format(time.DateOnly), nil, &agenda)
	if len(agenda.Items) != 3 {
		t.Fatalf("operator's agenda has %d appointments", len(agenda.Items))
	}
	if c := op.call("GET", "/api/v1/appointments?from=ieri", nil, nil, nil); c != http.StatusUnprocessableEntity {
		t.Fatalf("bad from: %d", c)
	}

	// Cancel: a reason is required; the operator cancels one, the citizen another.
	e = errorJSON{}
	if c := maria.call("POST", "/api/v1/appointments/"+booked[0].ID+"/cancel", map[string]any{"reason": " "}, nil, &e); c != http.StatusUnprocessableEntity {
		t.Fatalf("cancel without a reason: %d", c)
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/appointments/"+booked[0].ID+"/cancel", map[string]any{"reason": "operatrice in malattia"}, nil)
	maria.mustCall(http.StatusOK, "POST", "/api/v1/appointments/"+booked[1].ID+"/cancel", map[string]any{"reason": "impegno"}, nil)
	e = errorJSON{}
	if c := maria.call("POST", "/api/v1/appointments/"+booked[1].ID+"/cancel", map[string]any{"reason": "di nuovo"}, nil, &e); c != http.StatusConflict {
		t.Fatalf("second cancellation: %d %+v", c, e)
	}
	var got appointmentJSON
	maria.mustCall(http.StatusOK, "GET", "/api/v1/appointments/"+booked[0].ID, nil, &got)
	if got.Status != store.AppointmentCancelled {
		t.Fatalf("status %q", got.Status)
	}
	// Attendance is the staff's, and not before the appointment's day
	// (unless the first slot is today).
	if c := maria.call("POST", "/api/v1/appointments/"+booked[2].ID+"/attendance", map[string]any{"attended": true}, nil, nil); c != http.StatusForbidden {
		t.Fatalf("citizen records attendance: %d", c)
	}
	e = errorJSON{}
	if c := op.call("POST", "/api/v1/appointments/"+booked[2].ID+"/attendance", map[string]any{}, nil, &e); c != http.StatusUnprocessableEntity ||
		e.Error.Fields[0].Pointer != "/attended" {
		t.Fatalf("attendance without attended: %d %+v", c, e)
	}
	if !sameRomeDay(booked[2].StartsAt, time.Now()) {
		e = errorJSON{}
		if c := op.call("POST", "/api/v1/appointments/"+booked[2].ID+"/attendance", map[string]any{"attended": true}, nil, &e); c != http.StatusConflict ||
			e.Error.Code != "appointment_not_yet" {
			t.Fatalf("attendance days before: %d %+v", c, e)
		}
	}
	// The quota is free again: a new booking goes through.
	maria.mustCall(http.StatusCreated, "POST", "/api/v1/appointments", map[string]any{"point_id": "sp-tradate",
		"starts_at": slots[4].StartsAt.Format(time.RFC3339)}, nil)

	// Audit: the operator's agenda read, appointment read and cancellation.
	for _, action := range []string{"read_agenda", "read_appointment", "cancel_appointment"} {
		if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'operatore.tradate' AND action = $1
			AND ($1 = 'read_agenda' OR detail->>'appointment_id' = $2) AND case_id IS NULL`, action, booked[0].ID); n < 1 {
			t.Errorf("no audit row %s", action)
		}
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_username = 'cittadino.tradate'`); n != 0 {
		t.Errorf("citizens' own reads are not audited, found %d rows", n)
	}
}

func sameRomeDay(a, b time.Time) bool {
	rome, _ := time.LoadLocation("Europe/Rome")
	return a.In(rome).Format(time.DateOnly) == b.In(rome).Format(time.DateOnly)
}

// bookDirect writes a booking at any time (not necessarily a slot) and
// starts its workflow as the API does: for journeys whose timers must fire
// within a test.
func (s *stack) bookDirect(username, point string, startsAt time.Time, topic string) string {
	s.t.Helper()
	ctx := context.Background()
	var u store.Scope
	if err := s.st.Pool.QueryRow(ctx, `SELECT id, role, district_id, coalesce(municipality_id, '') FROM users WHERE username = $1`,
		username).Scan(&u.UserID, &u.Kind, &u.District, &u.Municipality); err != nil {
		s.t.Fatal(err)
	}
	v, _, err := s.st.API().BookAppointment(ctx, u, store.BookInput{ID: uuid.NewString(), PointID: point, CitizenID: u.UserID,
		StartsAt: startsAt, EndsAt: startsAt.Add(30 * time.Minute), Topic: topic, Now: time.Now()})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AppointmentWorkflowID(v.ID), TaskQueue: s.taskQueue},
		workflows.Appointment, workflows.AppointmentInput{AppointmentID: v.ID, PointID: v.PointID, CitizenID: v.CitizenID,
			StartsAt: v.StartsAt, EndsAt: v.EndsAt}); err != nil {
		s.t.Fatal(err)
	}
	return v.ID
}

// recordAppointmentHistory saves a finished appointment workflow's history
// for the replay test when SPORTELLO_RECORD_HISTORIES names a folder.
func (s *stack) recordAppointmentHistory(t *testing.T, id, name string) {
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.tc.GetWorkflow(ctx, workflows.AppointmentWorkflowID(id), "").Get(ctx, nil); err != nil {
		t.Fatalf("appointment workflow: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "appointment"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeHistory(ctx, s.tc, workflows.AppointmentWorkflowID(id), filepath.Join(dir, "appointment", name+".json")); err != nil {
		t.Fatalf("record history: %v", err)
	}
}

// The confirmation and the reminder of the day before reach a real SMTP
// server; the cancellation too. The appointment starts 24 hours and a few
// seconds after booking, so the reminder's timer fires during the test.
func TestAppointmentReminderEmailOverSMTP(t *testing.T) {
	s, inbox := newMailStack(t)
	id := s.bookDirect("cittadino.tradate", "sp-tradate", time.Now().Add(workflows.ReminderLead+4*time.Second), "affitto")
	toMaria := func(c mailcatcher.Captured) bool { return len(c.To) == 1 && c.To[0] == "maria.rossi@example.org" }
	confirm := inbox.wait("of confirmation", func(c mailcatcher.Captured) bool {
		return toMaria(c) && strings.HasPrefix(c.Subject, "Appuntamento confermato")
	})
	reminder := inbox.wait("of reminder", func(c mailcatcher.Captured) bool {
		return toMaria(c) && strings.HasPrefix(c.Subject, "Promemoria: appuntamento domani al Social Point di Tradate")
	})
	if !strings.Contains(reminder.Text, "Piazza Mazzini 6") || !strings.Contains(reminder.Text, "http://portal.test/appointments/"+id) {
		t.Fatalf("reminder text:\n%s", reminder.Text)
	}
	if !strings.Contains(confirm.Text, "affitto") {
		t.Fatalf("confirmation lacks the topic:\n%s", confirm.Text)
	}
	eventually(t, "the reminder to be recorded", func() bool {
		return s.count(`SELECT count(*) FROM appointments WHERE id::text = $1 AND reminded_at IS NOT NULL`, id) == 1
	})
	s.login("cittadino.tradate").mustCall(http.StatusOK, "POST", "/api/v1/appointments/"+id+"/cancel",
		map[string]any{"reason": "sto meglio"}, nil)
	cancelled := inbox.wait("of cancellation", func(c mailcatcher.Captured) bool {
		return toMaria(c) && strings.HasPrefix(c.Subject, "Appuntamento annullato")
	})
	if !strings.Contains(cancelled.Text, "sto meglio") {
		t.Fatalf("cancellation text:\n%s", cancelled.Text)
	}
	eventually(t, "the outbox to record three sent e-mails", func() bool {
		return s.count(`SELECT count(*) FROM notifications WHERE key LIKE $1 AND status = 'sent' AND channel = 'email'`,
			workflows.AppointmentWorkflowID(id)+":%") == 3
	})
	s.recordAppointmentHistory(t, id, "reminded-cancelled")
}

// An appointment booked for a moment from now gets no reminder; the
// operator records attendance with a plan, which the citizen then reads.
// A citizen without e-mail is left to the Social Point, as for cases.
func TestAppointmentAttendanceWithPlanOverHTTP(t *testing.T) {
	s := newStack(t)
	if _, err := s.st.Pool.Exec(context.Background(), `UPDATE users SET email = NULL WHERE username = 'cittadino.tradate'`); err != nil {
		t.Fatal(err)
	}
	id := s.bookDirect("cittadino.tradate", "sp-tradate", time.Now().Add(2*time.Second), "lavoro")
	op := s.login("operatore.tradate")
	plan := map[string]any{"needs": "Ricerca di lavoro", "services": "Centro per l'impiego", "next_steps": "Colloquio il 10", "notes": ""}
	op.mustCall(http.StatusOK, "POST", "/api/v1/appointments/"+id+"/attendance", map[string]any{"attended": true, "plan": plan}, nil)
	var got appointmentJSON
	s.login("cittadino.tradate").mustCall(http.StatusOK, "GET", "/api/v1/appointments/"+id, nil, &got)
	if got.Status != store.AppointmentAttended || got.Plan == nil || got.Plan.Services != "Centro per l'impiego" {
		t.Fatalf("citizen sees %+v", got)
	}
	if c := op.call("POST", "/api/v1/appointments/"+id+"/attendance", map[string]any{"attended": false}, nil, nil); c != http.StatusConflict {
		t.Fatalf("second record: %d", c)
	}
	s.recordAppointmentHistory(t, id, "attended-with-plan")
	if n := s.count(`SELECT count(*) FROM appointments WHERE id::text = $1 AND reminded_at IS NULL`, id); n != 1 {
		t.Fatal("a booking made less than 24 hours ahead was reminded")
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE key LIKE $1 AND channel = 'social_point'`,
		workflows.AppointmentWorkflowID(id)+":%"); n != 1 {
		t.Fatalf("%d Social Point contacts for a citizen without e-mail, want 1 (the confirmation)", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'record_attendance' AND detail->>'appointment_id' = $1
		AND (detail->>'plan')::boolean`, id); n != 1 {
		t.Fatalf("%d audit rows of the attendance", n)
	}
}

// Nobody records an appointment whose grace has passed: the workflow closes
// it as a no-show (a booking written in the past stands in for a week of
// waiting).
func TestAppointmentNoShowWhenNobodyRecords(t *testing.T) {
	s := newStack(t)
	id := s.bookDirect("cittadino.vedano", "sp-vedano-olona", time.Now().Add(-7*24*time.Hour), "")
	eventually(t, "the no-show", func() bool {
		return s.count(`SELECT count(*) FROM appointments WHERE id::text = $1 AND status = 'no_show' AND closed_by = 'system'`, id) == 1
	})
	s.recordAppointmentHistory(t, id, "no-show")
	var got appointmentJSON
	s.login("cittadino.vedano").mustCall(http.StatusOK, "GET", "/api/v1/appointments/"+id, nil, &got)
	if got.Status != store.AppointmentNoShow {
		t.Fatalf("status %q", got.Status)
	}
	if c := s.login("operatore.vedano").call("POST", "/api/v1/appointments/"+id+"/attendance", map[string]any{"attended": true}, nil, nil); c != http.StatusConflict {
		t.Fatalf("attendance after the no-show: %d", c)
	}
}
