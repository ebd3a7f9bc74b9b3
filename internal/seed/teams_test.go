package seed

import (
	"context"
	"testing"
	"time"

	"sportello/internal/testenv"
)

// The demo teams are seeded once, with their members, and review their
// municipality's food-voucher fund; a second run changes nothing.
func TestTeamsAreSeededOnce(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ {
		if err := Run(ctx, st, Options{Demo: true, Now: now}); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	var teams, members int
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM teams), (SELECT count(*) FROM team_members)`).Scan(&teams, &members); err != nil {
		t.Fatal(err)
	}
	wantMembers := 0
	for _, tm := range Teams() {
		wantMembers += len(tm.Members)
	}
	if teams != len(Teams()) || members != wantMembers {
		t.Fatalf("%d teams and %d members, want %d and %d", teams, members, len(Teams()), wantMembers)
	}
	var team string
	if err := st.Pool.QueryRow(ctx, `SELECT coalesce(team_id, '') FROM funds WHERE id = $1`, FundID("tradate", 2026)).Scan(&team); err != nil {
		t.Fatal(err)
	}
	if team != "istruttoria-buoni-spesa-tradate" {
		t.Fatalf("Tradate's fund is reviewed by %q", team)
	}
	var auto bool
	if err := st.Pool.QueryRow(ctx, `SELECT bool_or(auto_assign) FROM teams`).Scan(&auto); err != nil || auto {
		t.Fatalf("automatic assignment must be off in the demo (%v)", err)
	}
}
