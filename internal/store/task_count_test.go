package store_test

import (
	"context"
	"testing"

	"sportello/internal/store"
)

// TestTasksCountIsBounded: the task list (the inbox) counts up to its cap
// and then says "more than N", never less than the tasks up to the end of
// the page; a short list and the last page get the exact count; row-level
// security and the filters apply to the count as to the page.
func TestTasksCountIsBounded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 20 open review tasks in Tradate, 3 in Vedano Olona, on cases of their own.
	if _, err := f.st.Pool.Exec(ctx, `WITH c AS (
			INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
				form_version, fund_id, data, status, workflow_id, request_hash)
			SELECT 'BS-TCOUNT-' || lpad(i::text, 4, '0'), 'tradate', CASE WHEN i <= 20 THEN 'tradate' ELSE 'vedano-olona' END,
				$1, 'TTC' || i, 'buoni-spesa', 1, $2, '{}', 'in_review', 'case:BS-TCOUNT-' || i, 'h'
			FROM generate_series(1, 23) AS i
			RETURNING id, district_id, municipality_id)
		INSERT INTO tasks (id, case_id, district_id, municipality_id, status, due_at, created_at)
		SELECT gen_random_uuid(), id, district_id, municipality_id, 'open', now() + interval '3 days', now() FROM c`,
		f.citizen, f.fundID); err != nil {
		t.Fatal(err)
	}
	sup := store.Scope{Kind: "supervisor", District: "tradate"}
	op := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}
	padova := store.Scope{Kind: "operator", District: "alta-padovana", Municipality: "limena"}
	// Tasks the fixture or the seed may have opened already.
	open := func(scope store.Scope) int {
		_, n, err := f.st.API().Tasks(ctx, scope, store.TaskFilter{Status: "open", Limit: 200, CountCap: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return n.N
	}
	opOpen, supOpen := open(op), open(sup)
	if opOpen < 20 || supOpen < 23 {
		t.Fatalf("open tasks: operator %d, supervisor %d", opOpen, supOpen)
	}
	for _, tc := range []struct {
		name   string
		scope  store.Scope
		filter store.TaskFilter
		items  int
		want   store.Count
	}{
		{"capped", op, store.TaskFilter{Status: "open", Limit: 5, CountCap: 8}, 5, store.Count{N: 8, More: true}},
		{"deep full page beyond the cap", op, store.TaskFilter{Status: "open", Limit: 5, Offset: 10, CountCap: 8}, 5, store.Count{N: 15, More: true}},
		{"exact under the cap", op, store.TaskFilter{Status: "open", Limit: 5, CountCap: 1000}, 5, store.Count{N: opOpen}},
		{"last short page", op, store.TaskFilter{Status: "open", Limit: 200, CountCap: 3}, opOpen, store.Count{N: opOpen}},
		{"supervisor: the district", sup, store.TaskFilter{Status: "open", Limit: 5, CountCap: 1000}, 5, store.Count{N: supOpen}},
		{"another district sees none", padova, store.TaskFilter{Status: "open", Limit: 5, CountCap: 3}, 0, store.Count{}},
		{"done: none", op, store.TaskFilter{Status: "done", Limit: 5, CountCap: 3}, 0, store.Count{}},
	} {
		items, total, err := f.st.API().Tasks(ctx, tc.scope, tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(items) != tc.items || total != tc.want {
			t.Errorf("%s: %d items, count %+v; want %d, %+v", tc.name, len(items), total, tc.items, tc.want)
		}
	}
}
