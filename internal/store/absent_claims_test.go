package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"sportello/internal/store"
)

// TestAbsentPersonCannotClaim: during an absence (from its start by range,
// or from the moment its delegation marked it active) the case's claim path
// refuses the absent person with out_of_office, so no task lands on them
// after the handover; the delegate claims as usual; once the absence is
// cancelled the person claims again.
func TestAbsentPersonCannotClaim(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := time.Now()
	op := userView(t, f, "operatore.tradate")
	absence := uuid.NewString()
	f.exec(t, `INSERT INTO absences (id, district_id, municipality_id, user_id, delegate_id, starts_at, ends_at, reason, created_by)
		SELECT $1, 'tradate', 'tradate', $2, d.id, $3, $4, 'ferie', $2 FROM users d WHERE d.username = 'operatrice.tradate'`,
		absence, op.ID, now.Add(time.Hour), now.Add(48*time.Hour))
	claim := func(taskID, caseID string, user store.UserView, at time.Time) error {
		return f.st.ClaimTask(ctx, store.TaskActionInput{TaskID: taskID, CaseID: caseID, ActorID: user.ID, Actor: user.Username, At: at})
	}
	outOfOffice := func(err error) bool {
		var ce *store.ConflictError
		return errors.As(err, &ce) && ce.Code == store.CodeOutOfOffice
	}

	// Before the start: a claim goes through.
	t1, c1 := f.openTask(t, "TSTCLA80A01L319A", "review", now)
	if err := claim(t1, c1, op, now); err != nil {
		t.Fatalf("claim before the absence: %v", err)
	}
	// Within the range: refused, with the delegate named.
	t2, c2 := f.openTask(t, "TSTCLB80A01L319B", "review", now)
	err := claim(t2, c2, op, now.Add(2*time.Hour))
	if !outOfOffice(err) {
		t.Fatalf("claim during the absence: %v, want out_of_office", err)
	}
	var ce *store.ConflictError
	errors.As(err, &ce)
	if want := "operatrice.tradate"; !strings.Contains(ce.Message, want) {
		t.Fatalf("message %q does not name the delegate", ce.Message)
	}
	// Marked active by its delegation (its handover plan is made): refused
	// even at a time the range had not reached on the claimant's clock.
	f.exec(t, `UPDATE absences SET status = 'active' WHERE id = $1`, absence)
	if err := claim(t2, c2, op, now.Add(30*time.Minute)); !outOfOffice(err) {
		t.Fatalf("claim after the handover started: %v, want out_of_office", err)
	}
	var claimedBy *int64
	if err := f.st.Pool.QueryRow(ctx, `SELECT claimed_by FROM tasks WHERE id = $1`, t2).Scan(&claimedBy); err != nil || claimedBy != nil {
		t.Fatalf("the refused claim changed the task: %v %v", claimedBy, err)
	}
	// The delegate claims as usual.
	if err := claim(t2, c2, userView(t, f, "operatrice.tradate"), now.Add(2*time.Hour)); err != nil {
		t.Fatalf("the delegate's claim: %v", err)
	}
	// The plan of the handover still finds the task claimed before the start.
	refs, err := f.st.PlanHandover(ctx, absence, now.Add(time.Hour))
	if err != nil || len(refs) != 1 || refs[0].TaskID != t1 {
		t.Fatalf("handover plan %+v (%v), want the task claimed before the start", refs, err)
	}
	// Cancelled: the person claims again.
	f.exec(t, `UPDATE absences SET status = 'cancelled' WHERE id = $1`, absence)
	t3, c3 := f.openTask(t, "TSTCLC80A01L319C", "review", now)
	if err := claim(t3, c3, op, now.Add(2*time.Hour)); err != nil {
		t.Fatalf("claim after the cancellation: %v", err)
	}
}
