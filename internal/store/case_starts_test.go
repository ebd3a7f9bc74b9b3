package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// TestCaseStartPending: a filed case waits for its workflow's start until
// its pre-check (the workflow's first write) or the starter records it; a
// case no workflow processes never waits; the starter only sees the cases
// filed before its grace period.
func TestCaseStartPending(t *testing.T) {
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	if err := seed.Run(ctx, st, seed.Options{Demo: true}); err != nil {
		t.Fatal(err)
	}
	var u seed.DemoUser
	for _, du := range seed.DemoUsers() {
		if du.Username == "cittadino.tradate" {
			u = du
		}
	}
	scope := userScope(t, st, u.Username)
	filed := time.Now()
	file := func(key string, noWorkflow bool) string {
		t.Helper()
		data, _ := json.Marshal(map[string]any{"isee_euro": 5000, "residence": map[string]any{"municipality": u.Municipality},
			"household": map[string]any{"members": 2, "minors": 0}})
		c, err := st.API().CreateCase(ctx, scope, store.NewCase{Prefix: "BS", FormID: seed.FoodVoucherForm, FormVersion: 1,
			Data: data, Municipality: u.Municipality, TaxCode: u.TaxCode, IdempotencyKey: key, RequestHash: key,
			Actor: u.Username, Now: filed, NoWorkflow: noWorkflow})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	pending := func(before time.Time) []string {
		t.Helper()
		ids, err := st.PendingStarts(ctx, before, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	later := filed.Add(time.Minute)
	if ids := pending(later); len(ids) != 0 {
		t.Fatalf("the demo data waits for starts: %v", ids)
	}

	first := file("first", false)
	if ids := pending(later); !slices.Equal(ids, []string{first}) {
		t.Fatalf("pending %v, want [%s]", ids, first)
	}
	if ids := pending(filed); len(ids) != 0 {
		t.Fatalf("pending before the filing: %v", ids)
	}
	if err := st.SavePrecheck(ctx, first, nil, true, filed); err != nil {
		t.Fatal(err)
	}
	if ids := pending(later); len(ids) != 0 {
		t.Fatalf("pending after the pre-check: %v", ids)
	}

	// One in progress per call: the next filing needs the first one closed.
	if _, err := st.Pool.Exec(ctx, `UPDATE cases SET status = 'closed' WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	second := file("second", false)
	if err := st.StartedCases(ctx, []string{second}); err != nil {
		t.Fatal(err)
	}
	if ids := pending(later); len(ids) != 0 {
		t.Fatalf("pending after the starter: %v", ids)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE cases SET status = 'closed' WHERE id = $1`, second); err != nil {
		t.Fatal(err)
	}
	if id := file("no-workflow", true); slices.Contains(pending(later), id) {
		t.Fatalf("case %s without a workflow is pending", id)
	}
}

func TestCaseStartMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 41, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'cases' AND column_name = 'start_pending') OR to_regclass('cases_start_pending') IS NOT NULL`,
		"cases.start_pending")
}
