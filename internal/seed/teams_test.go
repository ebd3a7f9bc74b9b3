package seed

import (
	"context"
	"testing"
	"time"

	"sportello/internal/testenv"
)

// The teams of the district files are seeded once, with their members,
// and review the funds their file names; a second run changes nothing.
func TestTeamsAreSeededOnce(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 2; i++ {
		if err := Run(ctx, st, Options{Demo: true, Now: now}); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	files, err := DistrictFiles(true)
	if err != nil {
		t.Fatal(err)
	}
	wantTeams, wantMembers := 0, 0
	for _, f := range files {
		if len(f.Teams) == 0 {
			t.Errorf("%s has no team", f.ID)
		}
		wantTeams += len(f.Teams)
		for _, tm := range f.Teams {
			wantMembers += len(tm.Members)
		}
	}
	var teams, members int
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM teams), (SELECT count(*) FROM team_members)`).Scan(&teams, &members); err != nil {
		t.Fatal(err)
	}
	if teams != wantTeams || members != wantMembers {
		t.Fatalf("%d teams and %d members, want %d and %d", teams, members, wantTeams, wantMembers)
	}
	for fund, want := range map[string]string{FundID("tradate", 2026): "istruttoria-buoni-spesa-tradate",
		FundID("vedano-olona", 2026):      "istruttoria-buoni-spesa-vedano-olona",
		"buoni-spesa-piazzola-sul-brenta": "area-piazzola-sul-brenta", "buoni-spesa-limena": "area-limena"} {
		var team string
		if err := st.Pool.QueryRow(ctx, `SELECT coalesce(team_id, '') FROM funds WHERE id = $1`, fund).Scan(&team); err != nil {
			t.Fatal(err)
		}
		if team != want {
			t.Errorf("%s is reviewed by %q, want %q", fund, team, want)
		}
	}
	var auto bool
	if err := st.Pool.QueryRow(ctx, `SELECT bool_or(auto_assign) FROM teams`).Scan(&auto); err != nil || auto {
		t.Fatalf("automatic assignment must be off in the demo (%v)", err)
	}
}
