package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"sportello/internal/store"
)

// TestContactTaskSupersedesTheOpenOnes (issue 16): with OneOpen, a case's
// new contact task closes its open ones (cancelled, superseded), carries
// their messages and keeps one open task; a retry of the same notice
// changes nothing; without OneOpen (executions before FoodVoucher level 9)
// tasks add up as before.
func TestContactTaskSupersedesTheOpenOnes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	op := staffScope(t, f.st, "operatore.tradate")
	at := time.Now()
	open := func(key, kind, msg string, one bool) {
		t.Helper()
		if _, err := f.st.OpenContactTask(ctx, store.ContactTaskInput{Key: f.caseID + ":" + key, CaseID: f.caseID, Kind: kind,
			CitizenID: f.citizen, MessageIT: msg, At: at, OneOpen: one, EarlierIT: "Prima:"}, "voucher_ready"); err != nil {
			t.Fatal(err)
		}
	}
	active := func() []store.ContactTaskView {
		t.Helper()
		l, _, err := f.st.API().ContactTasks(ctx, op, store.ContactFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	open("old-1", "application_received", "Domanda ricevuta", false)
	open("old-2", "information_requested", "Servono informazioni", false)
	if n := len(active()); n != 2 {
		t.Fatalf("without OneOpen: %d open tasks, want 2", n)
	}
	for range 2 { // the second is a retry of the same notice
		open("new", "approved", "Domanda approvata", true)
	}
	l := active()
	if len(l) != 1 || l[0].NotificationKind != "approved" {
		t.Fatalf("with OneOpen: %+v", l)
	}
	for _, want := range []string{"Domanda approvata", "Prima:", "Domanda ricevuta", "Servono informazioni"} {
		if !strings.Contains(l[0].MessageIT, want) {
			t.Errorf("message lacks %q: %q", want, l[0].MessageIT)
		}
	}
	done, _, err := f.st.API().ContactTasks(ctx, op, store.ContactFilter{Status: "done"})
	if err != nil {
		t.Fatal(err)
	}
	superseded := 0
	for _, c := range done {
		if c.Status == "cancelled" && c.Outcome != nil && *c.Outcome == store.ContactSuperseded {
			superseded++
		}
	}
	if superseded != 2 {
		t.Errorf("%d superseded tasks, want 2: %+v", superseded, done)
	}
}
