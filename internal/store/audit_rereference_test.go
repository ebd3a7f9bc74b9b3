package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// Migration 022's one exception to the append-only trail: inside
// sportello_audit_rereference, for the system scope, a citizen's plain tax
// code (acting_for, strings of detail) becomes their own reference, which
// reads back as the same tax code; every other change is still refused,
// for the table owner too, even with the re-reference announced.
func TestAuditRereferenceIsTheOnlyChange(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	maria := seed.Residents()[0].TaxCode()
	var mariaID int64
	var mariaRef, giovanniRef string
	if err := st.Pool.QueryRow(ctx, `SELECT id, 'citizen:' || public_id::text FROM users WHERE username = 'cittadino.tradate'`).
		Scan(&mariaID, &mariaRef); err != nil {
		t.Fatal(err)
	}
	if err := st.Pool.QueryRow(ctx, `SELECT 'citizen:' || public_id::text FROM users WHERE username = 'cittadino.vedano'`).
		Scan(&giovanniRef); err != nil {
		t.Fatal(err)
	}
	var rowID int64
	if err := st.Pool.QueryRow(ctx, `INSERT INTO audit_log (district_id, actor_username, actor_role, acting_for, action, reason, detail)
		VALUES ('tradate', 'operatore.tradate', 'operator', $1, 'search', 'lookup', jsonb_build_object('citizen_query', lower($1),
		'nested', jsonb_build_array($1, 'other'), 'results', 1)) RETURNING id`, maria).Scan(&rowID); err != nil {
		t.Fatal(err)
	}
	row := func() (actingFor, detail, reason string) {
		t.Helper()
		if err := st.Pool.QueryRow(ctx, `SELECT acting_for, detail::text, reason FROM audit_log WHERE id = $1`, rowID).
			Scan(&actingFor, &detail, &reason); err != nil {
			t.Fatal(err)
		}
		return
	}

	// The owner, with the re-reference announced, still may not change
	// another column, map the tax code to someone else, or rewrite it
	// without the detail.
	for name, q := range map[string]string{
		"another column":      `UPDATE audit_log SET acting_for = $2, reason = 'changed', detail = sportello_json_swap(detail, $1, $2) WHERE id = $3`,
		"only acting_for":     `UPDATE audit_log SET acting_for = $2 WHERE id = $3 AND $1::text <> ''`,
		"not announced":       `UPDATE audit_log SET acting_for = 'x' WHERE id = $3 AND $1::text <> $2::text`,
		"another citizen ref": `UPDATE audit_log SET acting_for = '` + giovanniRef + `', detail = sportello_json_swap(detail, $1, '` + giovanniRef + `') WHERE id = $3 AND $2::text <> ''`,
	} {
		err := pgx.BeginFunc(ctx, st.Pool, func(tx pgx.Tx) error {
			if name != "not announced" {
				pair := maria + "|" + mariaRef
				if name == "another citizen ref" {
					pair = maria + "|" + giovanniRef
				}
				if _, err := tx.Exec(ctx, `SELECT set_config('sportello.audit_rereference', $1, true)`, pair); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, q, maria, mariaRef, rowID)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", name, err)
		}
	}

	// Another scope than the system's changes nothing.
	for _, scope := range []store.Scope{{Kind: "supervisor", District: "tradate"}, {Kind: "citizen", UserID: mariaID}} {
		var n int
		if err := st.InTx(ctx, scope, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT sportello_audit_rereference($1, $2)`, mariaID, maria).Scan(&n)
		}); err != nil || n != 0 {
			t.Errorf("%s: %d rows, %v", scope.Kind, n, err)
		}
	}
	// Giovanni's account does not take Maria's tax code.
	var n int
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT sportello_audit_rereference((SELECT id FROM users WHERE username = 'cittadino.vedano'), $1)`,
			maria).Scan(&n)
	}); err != nil || n != 0 {
		t.Errorf("Giovanni's account with Maria's tax code: %d rows, %v", n, err)
	}
	if actingFor, _, _ := row(); actingFor != maria {
		t.Fatalf("the row changed before the re-reference: %s", actingFor)
	}

	// The system's re-reference: the tax code becomes Maria's reference
	// everywhere in the row, nothing else changes, and the trail reads
	// the same tax code as before.
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT sportello_audit_rereference($1, $2)`, mariaID, strings.ToLower(maria)).Scan(&n)
	}); err != nil || n != 1 {
		t.Fatalf("re-reference: %d rows, %v", n, err)
	}
	actingFor, detail, reason := row()
	if actingFor != mariaRef || reason != "lookup" || strings.Contains(strings.ToUpper(detail), maria) ||
		strings.Count(detail, mariaRef) != 2 || !strings.Contains(detail, `"other"`) || !strings.Contains(detail, `"results": 1`) {
		t.Errorf("after the re-reference: %s %s %s", actingFor, detail, reason)
	}
	var read string
	if err := st.Pool.QueryRow(ctx, `SELECT sportello_audit_subject_name(acting_for) FROM audit_log WHERE id = $1`, rowID).
		Scan(&read); err != nil || read != maria {
		t.Errorf("the trail reads %q (%v), want Maria's tax code", read, err)
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE audit_log SET reason = 'changed' WHERE false`); err == nil {
		t.Error("an UPDATE outside a re-reference was allowed")
	}
}
