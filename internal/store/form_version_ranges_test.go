package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/forms"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// TestFormVersionRangesMigration: migration 035 keeps the form versions
// stored before it as they are (a district's version 2, published, with a
// call and its fund; a district's draft 3, still editable and publishable),
// numbers a district's next version 1001 and refuses a district's new
// version in the platform's range and a platform version beyond it; the
// import of an embedded version numbered like a district's stored one is
// ErrFormVersionTaken. Down, the numbering is one sequence again.
func TestFormVersionRangesMigration(t *testing.T) {
	url, st := testenv.Postgres(t)
	ctx := context.Background()
	now := time.Now()
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	m := migrator(t, conn)
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	next := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT sportello_next_form_version('buoni-spesa')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	v1, _ := forms.MustRegistry().GetVersion("buoni-spesa", 1)

	// Before: versions numbered across the platform and the districts.
	if err := m.MigrateTo(ctx, 34); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO form_versions (form_id, version, district_id, schema, status, created_by, published_at)
			VALUES ('buoni-spesa', 2, 'tradate', $1::json, 'published', 'supervisore', now())`,
		`INSERT INTO form_versions (form_id, version, district_id, schema, status, created_by)
			VALUES ('buoni-spesa', 3, 'tradate', $1::json, 'draft', 'supervisore')`,
	} {
		if err := exec(q, string(v1.Schema)); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec(`INSERT INTO calls (id, district_id, municipality_id, name, form_id, form_version, isee_threshold_cents, rule,
			tranches, budget_cents, opens_at, closes_at, expires_at, status, created_by, created_at, updated_at, published_at)
		VALUES ('call-legacy', 'tradate', 'tradate', 'Bando', 'buoni-spesa', 2, 0, '{}', '[]', 100, now(), now() + interval '1 day',
			now() + interval '2 days', 'published', 'supervisore', now(), now(), now())`); err != nil {
		t.Fatal(err)
	}
	if n := next(); n != 4 {
		t.Fatalf("next version before 035: %d, want 4", n)
	}

	if err := m.MigrateTo(ctx, 35); err != nil {
		t.Fatal(err)
	}
	var district, status string
	var version int
	if err := conn.QueryRow(ctx, `SELECT c.form_version, v.district_id, v.status FROM calls c
		JOIN form_versions v ON v.form_id = c.form_id AND v.version = c.form_version WHERE c.id = 'call-legacy'`).Scan(&version, &district, &status); err != nil {
		t.Fatal(err)
	}
	if version != 2 || district != "tradate" || status != "published" {
		t.Errorf("the legacy call's version: %d of %q, %s", version, district, status)
	}
	if err := exec(`UPDATE form_versions SET schema = $1::json, status = 'published', published_at = now()
		WHERE form_id = 'buoni-spesa' AND version = 3`, string(v1.Schema)); err != nil {
		t.Errorf("the legacy draft could not be edited and published: %v", err)
	}
	if n := next(); n != forms.FirstDistrictVersion {
		t.Errorf("next version after 035: %d, want %d", n, forms.FirstDistrictVersion)
	}
	for name, q := range map[string]string{
		"a district's new version in the platform's range": `INSERT INTO form_versions (form_id, version, district_id, schema, status, created_by)
			VALUES ('buoni-spesa', 4, 'tradate', '{}', 'draft', 'supervisore')`,
		"a platform version beyond its range": `INSERT INTO form_versions (form_id, version, schema, status, created_by, published_at)
			VALUES ('buoni-spesa', 1000, '{}', 'published', 'sportello', now())`,
	} {
		if err := exec(q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	tradate := store.Scope{Kind: "supervisor", District: "tradate"}
	draft, err := st.API().CreateFormVersion(ctx, tradate, "buoni-spesa", v1.Schema, "supervisore", now)
	if err != nil || draft.Version != forms.FirstDistrictVersion {
		t.Fatalf("a district's new version: %d, %v", draft.Version, err)
	}
	if err := exec(`UPDATE form_versions SET version = 5 WHERE form_id = 'buoni-spesa' AND version = $1`, draft.Version); err == nil {
		t.Error("a district's version moved into the platform's range")
	}
	err = st.API().ImportFormVersion(ctx, "buoni-spesa", 2, v1.Schema, now)
	if !errors.Is(err, store.ErrFormVersionTaken) {
		t.Errorf("importing an embedded version 2 over the district's: %v", err)
	}
	if err := st.API().ImportFormVersion(ctx, "buoni-spesa", 1, v1.Schema, now); err != nil {
		t.Errorf("importing the platform's version 1 again: %v", err)
	}

	goesDownAndUp(t, conn, 35, `SELECT to_regprocedure('form_versions_district_range()') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'form_versions_platform_range')
		OR sportello_next_form_version('buoni-spesa') <> 1002`, "version ranges")
	if n := next(); n != forms.FirstDistrictVersion+1 {
		t.Errorf("next version up again: %d, want %d", n, forms.FirstDistrictVersion+1)
	}
	upToLatest(t, conn)
}
