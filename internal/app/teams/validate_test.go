package teams

import (
	"errors"
	"testing"
	"time"

	"sportello/internal/app"
	"sportello/internal/calendar"
	"sportello/internal/i18n"
	"sportello/internal/store"
)

func ptr[T any](v T) *T { return &v }

func TestOfficeCalendarValidate(t *testing.T) {
	// A patron's day that does not exist, named in both languages.
	_, fields := OfficeCalendarRequest{PatronSaint: ptr("San Nessuno"), PatronDay: ptr(30), PatronMonth: ptr(2)}.validate("012")
	if len(fields) != 1 || fields[0].Pointer != "/patron_day" || fields[0].Code != "no_such_date" ||
		fields[0].In("en") != "February has 29 days." || fields[0].In("it") != "Febbraio ha 29 giorni." {
		t.Fatalf("30 February: %+v", fields)
	}
	// Opening without closing, and blank values cleared.
	o, fields := OfficeCalendarRequest{PatronSaint: ptr("  "), OfficeOpens: ptr("08:30")}.validate("012")
	if len(fields) != 1 || fields[0].Pointer != "/office_closes" || fields[0].Code != "required" {
		t.Fatalf("opens only: %+v", fields)
	}
	if o.PatronSaint != nil || o.Municipality != "012" {
		t.Fatalf("normalised calendar: %+v", o)
	}
	// A whole calendar.
	o, fields = OfficeCalendarRequest{PatronSaint: ptr(" Sant'Ambrogio "), PatronDay: ptr(7), PatronMonth: ptr(12),
		OfficeOpens: ptr("08:30"), OfficeCloses: ptr("17:00")}.validate("012")
	if len(fields) != 0 || *o.PatronSaint != "Sant'Ambrogio" {
		t.Fatalf("whole calendar: %+v %+v", o, fields)
	}
}

func TestAbsenceRequestValidate(t *testing.T) {
	rome := calendar.Rome()
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, rome)
	user := store.UserView{ID: 7, Username: "operatore.tradate"}

	req := AbsenceRequest{Delegate: " operatrice.tradate ", From: "2026-03-10", To: "2026-03-12", Reason: " ferie "}
	in, fields := req.validate(user, now)
	if len(fields) != 0 {
		t.Fatalf("valid request refused: %+v", fields)
	}
	if in.User != "operatore.tradate" || in.Delegate != "operatrice.tradate" || in.Reason != "ferie" ||
		!in.StartsAt.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, rome)) || !in.EndsAt.Equal(time.Date(2026, 3, 13, 0, 0, 0, 0, rome)) {
		t.Fatalf("absence: %+v", in)
	}

	req = AbsenceRequest{From: "2026-03-09", To: "2026-03-12"}
	_, fields = req.validate(user, now)
	var ptrs []string
	for _, f := range fields {
		ptrs = append(ptrs, f.Pointer+":"+f.Code)
	}
	want := []string{"/delegate:required", "/reason:required", "/from:in_the_past"}
	if len(ptrs) != len(want) {
		t.Fatalf("problems %v, want %v", ptrs, want)
	}
	for i := range want {
		if ptrs[i] != want[i] {
			t.Fatalf("problems %v, want %v", ptrs, want)
		}
	}
}

func TestStoreInvalidIsAFieldProblem(t *testing.T) {
	err := storeInvalid(&store.InvalidError{Pointer: "/delegate", Code: "delegate_absent", Text: i18n.Verbatim("assente", "away")})
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Kind != app.Invalid || ae.Code != "validation" || len(ae.Fields) != 1 ||
		ae.Fields[0].Pointer != "/delegate" || ae.Fields[0].Code != "delegate_absent" || ae.Fields[0].In("it") != "assente" {
		t.Fatalf("storeInvalid: %#v", err)
	}
	other := errors.New("boom")
	if storeInvalid(other) != other || storeInvalid(nil) != nil {
		t.Fatal("storeInvalid changed an error that is not a field problem")
	}
}
