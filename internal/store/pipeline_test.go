package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sportello/internal/store"
)

// TestPipelineScope checks Store.Pipeline, the one-round-trip form of InTx:
// its statements run as sportello_app under the scope, row-level security
// decides what they see, the statements commit together or not at all, and
// nothing of the scope stays on the connection afterwards. The pool has one
// connection, so every call below uses the same one.
func TestPipelineScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cfg := f.st.Pool.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := &store.Store{Pool: pool}
	vedanoOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "vedano-olona", UserID: 1}
	tradateOp := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate", UserID: 1}

	var owner string
	if err := pool.QueryRow(ctx, `SELECT current_user`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	leftOver := func(when string) {
		t.Helper()
		var user, scope, district string
		if err := pool.QueryRow(ctx, `SELECT current_user, coalesce(current_setting('sportello.scope', true), ''),
				coalesce(current_setting('sportello.district', true), '')`).Scan(&user, &scope, &district); err != nil {
			t.Fatal(err)
		}
		if user != owner || scope != "" || district != "" {
			t.Errorf("%s: the connection kept user %q scope %q district %q, want %q and no scope", when, user, scope, district, owner)
		}
	}

	// The scope and role apply to every statement of the pipeline.
	b := &pgx.Batch{}
	var user, scope, municipality string
	var seen, seenVedano int
	b.Queue(`SELECT current_user, current_setting('sportello.scope'), current_setting('sportello.municipality')`).
		QueryRow(func(r pgx.Row) error { return r.Scan(&user, &scope, &municipality) })
	b.Queue(`SELECT count(*) FROM cases WHERE id = $1`, f.caseID).QueryRow(func(r pgx.Row) error { return r.Scan(&seen) })
	if err := st.Pipeline(ctx, tradateOp, b); err != nil {
		t.Fatal(err)
	}
	if user != "sportello_app" || scope != "operator" || municipality != "tradate" || seen != 1 {
		t.Errorf("in the pipeline: user %q scope %q municipality %q, case seen %d; want sportello_app, operator, tradate, 1",
			user, scope, municipality, seen)
	}
	leftOver("after a pipeline")

	// Row-level security decides: another municipality's operator sees nothing.
	b = &pgx.Batch{}
	b.Queue(`SELECT count(*) FROM cases WHERE id = $1`, f.caseID).QueryRow(func(r pgx.Row) error { return r.Scan(&seenVedano) })
	if err := st.Pipeline(ctx, vedanoOp, b); err != nil {
		t.Fatal(err)
	}
	if seenVedano != 0 {
		t.Errorf("an operator of Vedano Olona sees %d Tradate cases through a pipeline, want 0", seenVedano)
	}

	// All or nothing: a failing statement rolls back the write before it.
	countAudit := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'pipeline_test'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countAudit()
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO audit_log (district_id, municipality_id, actor_id, actor_username, actor_role, action)
		VALUES ('tradate', 'tradate', 1, 'x', 'operator', 'pipeline_test')`)
	b.Queue(`SELECT 1 / 0`)
	if err := st.Pipeline(ctx, tradateOp, b); err == nil {
		t.Fatal("a pipeline with a failing statement succeeded")
	}
	if n := countAudit(); n != before {
		t.Errorf("a failed pipeline left %d audit rows, want none", n-before)
	}
	leftOver("after a failed pipeline")
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO audit_log (district_id, municipality_id, actor_id, actor_username, actor_role, action)
		VALUES ('tradate', 'tradate', 1, 'x', 'operator', 'pipeline_test')`)
	if err := st.Pipeline(ctx, tradateOp, b); err != nil {
		t.Fatal(err)
	}
	if n := countAudit(); n != before+1 {
		t.Errorf("a pipeline's insert left %d audit rows, want 1", n-before)
	}

	// InTx (BEGIN and the scope in one round trip) leaves nothing either,
	// after a commit and after a rollback.
	if err := st.InTx(ctx, tradateOp, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT current_user`).Scan(&user)
	}); err != nil || user != "sportello_app" {
		t.Fatalf("InTx: user %q, %v", user, err)
	}
	leftOver("after InTx")
	if err := st.InTx(ctx, tradateOp, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT 1 / 0`)
		return err
	}); err == nil {
		t.Fatal("InTx with a failing statement succeeded")
	}
	leftOver("after a failed InTx")
}
