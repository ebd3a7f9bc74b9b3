package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// The district an anonymous visitor is shown is decided in one place
// (store.API.VisitorDistrict, app.Core.DefaultDistrict): the district
// serving the request's host, else the one the district files mark
// "default" (migration 032), else the oldest; no district is named in code.
func TestVisitorDistrictFollowsTheDistrictFiles(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, args...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(host, district string) {
		t.Helper()
		got, err := st.API().VisitorDistrict(ctx, host)
		if err != nil || got != district {
			t.Errorf("visitor of %q: %q, %v; want %q", host, got, err, district)
		}
		b, err := st.API().DistrictBrand(ctx, "", host)
		if err != nil || b.ID != district {
			t.Errorf("brand for a visitor of %q: %q, %v; want %q", host, b.ID, err, district)
		}
	}
	var other string
	if err := st.Pool.QueryRow(ctx, `SELECT id FROM districts WHERE id <> 'tradate' ORDER BY id LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tradate", other, "tradate"} {
		exec(`UPDATE districts SET is_default = false WHERE is_default`)
		exec(`UPDATE districts SET is_default = true WHERE id = $1`, d)
		want("", d)
		want("localhost", d)
	}
	exec(`UPDATE districts SET hosts = ARRAY['sportello.example.it'] WHERE id = $1`, other)
	want("sportello.example.it", other)
	want("localhost", "tradate")
}
