package store_test

import (
	"context"
	"strconv"
	"testing"
)

// Migration 027 goes down and up, leaves the full-text index without a
// pending list, and its PL/pgSQL sportello_cooperative() and
// catalogue_query() answer as the SQL functions they replace, for every
// scope and user of the seed and a range of search texts.
func TestCatalogueSpeedMigration(t *testing.T) {
	conn := seededConn(t)
	ctx := context.Background()
	goesDownAndUp(t, conn, 27, `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
		WHERE p.proname IN ('sportello_cooperative', 'catalogue_query') AND l.lanname = 'plpgsql')`, "the PL/pgSQL functions")

	var opts []string
	if err := conn.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = 'services_search'`).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	if len(opts) != 1 || opts[0] != "fastupdate=off" {
		t.Fatalf("services_search options %v, want fastupdate=off", opts)
	}

	// The cooperative of each scope: the function against the body of 009.
	rows, err := conn.Query(ctx, `SELECT id, role FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type user struct {
		id   int64
		role string
	}
	var users []user
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.id, &u.role); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	rows.Close()
	cooperatives := 0
	for _, u := range users {
		for _, kind := range []string{"cooperative", "citizen", "operator", "system", "anonymous", ""} {
			var got, want string
			if _, err := conn.Exec(ctx, `SELECT set_config('sportello.scope', $1, false), set_config('sportello.user', $2, false)`,
				kind, strconv.FormatInt(u.id, 10)); err != nil {
				t.Fatal(err)
			}
			if err := conn.QueryRow(ctx, `SELECT sportello_cooperative(), coalesce((SELECT u.cooperative_id FROM users u
				WHERE sportello_scope() = 'cooperative' AND u.id = sportello_user() AND u.role = 'cooperative'), '')`).Scan(&got, &want); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("sportello_cooperative() of %s %d (%s) = %q, want %q", kind, u.id, u.role, got, want)
			}
			if got != "" {
				cooperatives++
			}
		}
	}
	if cooperatives == 0 {
		t.Fatal("no cooperative user of the seed has a cooperative: the comparison proves nothing")
	}

	for _, q := range []string{"", "anziani", "Assistenza domiciliare", "doposcuola per ragazzi", "il", "è già più",
		"giardino, orto & verde", "psicologico 24h", "  ", "caffè"} {
		var got, want *string
		if err := conn.QueryRow(ctx, `SELECT catalogue_query($1)::text,
			(SELECT string_agg('(' || plainto_tsquery('italian', w)::text || ' | '''
				|| regexp_replace(w, '[aeiouàèéìòù]$', '') || ''':*)', ' & ')::tsquery
			FROM regexp_split_to_table(lower(coalesce($1, '')), '[^[:alpha:]]+') AS w
			WHERE length(w) >= 3 AND numnode(plainto_tsquery('italian', w)) > 0)::text`, q).Scan(&got, &want); err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Fatalf("catalogue_query(%q) = %v, want %v", q, nullText(got), nullText(want))
		}
	}
}

func nullText(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}
