package store_test

import (
	"context"
	"testing"

	"sportello/internal/store"
)

// TestCasesCountIsBounded: the case list counts up to its cap and then says
// "more than N", never less than the cases up to the end of the page (so a
// full page always has a next one); the last page, a short list and a deep
// page get the exact count; filters and row-level security apply to the
// count as to the page.
func TestCasesCountIsBounded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 30 more cases in Tradate (31 with the fixture's), 5 in Vedano Olona.
	if _, err := f.st.Pool.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash, created_at)
		SELECT 'BS-COUNT-' || lpad(i::text, 4, '0'), 'tradate', CASE WHEN i <= 30 THEN 'tradate' ELSE 'vedano-olona' END,
			$1, 'TC' || i, 'buoni-spesa', 1, $2, '{}', CASE WHEN i % 2 = 0 THEN 'approved' ELSE 'rejected' END,
			'case:BS-COUNT-' || i, 'h', now() - i * interval '1 minute'
		FROM generate_series(1, 35) AS i`, f.citizen, f.fundID); err != nil {
		t.Fatal(err)
	}
	sup := store.Scope{Kind: "supervisor", District: "tradate"}
	op := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}
	padova := store.Scope{Kind: "supervisor", District: "alta-padovana"}
	api := f.st.API()
	for _, tc := range []struct {
		name      string
		scope     store.Scope
		filter    store.CaseFilter
		items     int
		want      store.Count
		firstItem string
	}{
		{"capped", sup, store.CaseFilter{Limit: 10, CountCap: 20}, 10, store.Count{N: 20, More: true}, ""},
		{"exact under the cap", sup, store.CaseFilter{Limit: 10, CountCap: 100}, 10, store.Count{N: 36}, ""},
		{"default cap", sup, store.CaseFilter{Limit: 10}, 10, store.Count{N: 36}, ""},
		{"deep full page beyond the cap", sup, store.CaseFilter{Limit: 10, Offset: 20, CountCap: 5}, 10, store.Count{N: 30, More: true}, "BS-COUNT-0020"},
		{"last full page", sup, store.CaseFilter{Limit: 12, Offset: 24, CountCap: 5}, 12, store.Count{N: 36}, ""},
		{"last short page", sup, store.CaseFilter{Limit: 10, Offset: 30, CountCap: 5}, 6, store.Count{N: 36}, ""},
		{"past the end", sup, store.CaseFilter{Limit: 10, Offset: 50, CountCap: 5}, 0, store.Count{N: 36}, ""},
		{"status filter capped", sup, store.CaseFilter{Status: "approved", Limit: 5, CountCap: 8}, 5, store.Count{N: 8, More: true}, "BS-COUNT-0002"},
		{"status filter exact", sup, store.CaseFilter{Status: "approved", Limit: 5, CountCap: 100}, 5, store.Count{N: 17}, ""},
		{"tax code", sup, store.CaseFilter{TaxCode: "tc7", Limit: 5, CountCap: 1}, 1, store.Count{N: 1}, "BS-COUNT-0007"},
		{"operator: own municipality only", op, store.CaseFilter{Limit: 10, CountCap: 25}, 10, store.Count{N: 25, More: true}, ""},
		{"operator exact", op, store.CaseFilter{Limit: 10, CountCap: 1000}, 10, store.Count{N: 31}, ""},
		{"another district", padova, store.CaseFilter{Limit: 10, CountCap: 5}, 0, store.Count{N: 0}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, total, err := api.Cases(ctx, tc.scope, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.items || total != tc.want {
				t.Fatalf("%d items, count %+v; want %d items, count %+v", len(items), total, tc.items, tc.want)
			}
			if tc.firstItem != "" && items[0].ID != tc.firstItem {
				t.Fatalf("first item %s, want %s", items[0].ID, tc.firstItem)
			}
			for _, it := range items {
				if tc.scope.Kind == "operator" && it.Municipality != "tradate" {
					t.Fatalf("an operator of Tradate lists %s of %s", it.ID, it.Municipality)
				}
			}
		})
	}
	// Paging to the end with the capped counts lists every case once.
	seen := map[string]bool{}
	for off := 0; ; off += 7 {
		items, total, err := api.Cases(ctx, sup, store.CaseFilter{Limit: 7, Offset: off, CountCap: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if seen[it.ID] {
				t.Fatalf("%s listed twice", it.ID)
			}
			seen[it.ID] = true
		}
		if !total.More && off+7 >= total.N {
			break
		}
		if off > 100 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 36 {
		t.Fatalf("paging listed %d cases, want 36", len(seen))
	}
}
