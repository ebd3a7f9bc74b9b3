package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// userScope is the scope of a demo user.
func userScope(t *testing.T, st *store.Store, username string) store.Scope {
	t.Helper()
	var s store.Scope
	err := st.InTx(context.Background(), store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT id, role, district_id, coalesce(municipality_id, '')
			FROM users WHERE username = $1`, username).Scan(&s.UserID, &s.Kind, &s.District, &s.Municipality)
	})
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return s
}

func TestAuditTrailIsAppendOnlyAndSupervisorsOnly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	op := userScope(t, f.st, "operatore.tradate")
	sup := userScope(t, f.st, "supervisore")
	padova := userScope(t, f.st, "supervisore.padova")
	vedano := userScope(t, f.st, "operatore.vedano")
	citizen := userScope(t, f.st, "cittadino.tradate")
	merchant := userScope(t, f.st, "esercente.tradate")

	// An operator's read: district and municipality come from the case.
	if err := api.Audit(ctx, op, store.AuditEntry{Action: store.AuditReadCase, CaseID: f.caseID,
		ActorUsername: "operatore.tradate", RequestID: "req-1"}); err != nil {
		t.Fatalf("operator audit: %v", err)
	}
	if err := api.Audit(ctx, op, store.AuditEntry{Action: store.AuditDecide, CaseID: f.caseID,
		ActorUsername: "operatore.tradate", Reason: "ISEE oltre la soglia",
		Detail: json.RawMessage(`{"outcome":"reject"}`)}); err != nil {
		t.Fatalf("operator action: %v", err)
	}
	// A supervisor's district-wide search names no municipality.
	if err := api.Audit(ctx, sup, store.AuditEntry{Action: store.AuditSearch, ActorUsername: "supervisore",
		Detail: json.RawMessage(`{"q":"RSSMRA80A41L319X"}`)}); err != nil {
		t.Fatalf("supervisor audit: %v", err)
	}
	// A merchant's redemption, without a case.
	if err := api.Audit(ctx, merchant, store.AuditEntry{Action: store.AuditRedeem, ActorUsername: "esercente.tradate"}); err != nil {
		t.Fatalf("merchant audit: %v", err)
	}

	// Rows about somebody else, elsewhere, or by a citizen are refused.
	refused := map[string]struct {
		scope store.Scope
		e     store.AuditEntry
	}{
		"citizen":            {citizen, store.AuditEntry{Action: store.AuditReadCase, CaseID: f.caseID, ActorUsername: "cittadino.tradate"}},
		"forged actor":       {op, store.AuditEntry{Action: store.AuditReadCase, ActorID: sup.UserID, ActorUsername: "supervisore"}},
		"forged role":        {op, store.AuditEntry{Action: store.AuditReadCase, ActorRole: "supervisor", ActorUsername: "operatore.tradate"}},
		"other municipality": {op, store.AuditEntry{Action: store.AuditSearch, Municipality: "vedano-olona", ActorUsername: "operatore.tradate"}},
		"other district":     {padova, store.AuditEntry{Action: store.AuditReadCase, CaseID: f.caseID, District: "tradate", ActorUsername: "supervisore.padova"}},
		"merchant with case": {merchant, store.AuditEntry{Action: store.AuditRedeem, CaseID: f.caseID, ActorUsername: "esercente.tradate"}},
		"anonymous":          {store.Scope{Kind: "anonymous", District: "tradate"}, store.AuditEntry{Action: store.AuditSearch, ActorUsername: "x"}},
	}
	for name, tc := range refused {
		if err := api.Audit(ctx, tc.scope, tc.e); !errors.Is(err, store.ErrAuditUnavailable) {
			t.Errorf("%s: audit row accepted (err %v)", name, err)
		}
	}

	// The supervisor of the district reads everything, newest first.
	items, total, err := api.AuditLog(ctx, sup, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(items) != 4 {
		t.Fatalf("supervisor sees %d/%d rows: %+v", len(items), total, items)
	}
	if items[0].Action != store.AuditRedeem || items[0].CaseID != "" || items[3].Action != store.AuditReadCase {
		t.Errorf("order: %+v", items)
	}
	read := items[3]
	if read.District != "tradate" || read.Municipality != "tradate" || read.ActorID != op.UserID ||
		read.ActorRole != "operator" || read.RequestID != "req-1" || read.At.IsZero() {
		t.Errorf("read row: %+v", read)
	}
	// Filters: by case (case-insensitive number), by actor.
	items, total, err = api.AuditLog(ctx, sup, store.AuditFilter{CaseID: strings.ToLower(f.caseID)})
	if err != nil || total != 2 || items[0].Action != store.AuditDecide || items[0].Reason != "ISEE oltre la soglia" {
		t.Errorf("by case: %d %+v %v", total, items, err)
	}
	if _, total, _ = api.AuditLog(ctx, sup, store.AuditFilter{Actor: "SUPERVISORE"}); total != 1 {
		t.Errorf("by actor: %d rows", total)
	}
	if items, total, _ = api.AuditLog(ctx, sup, store.AuditFilter{Limit: 1, Offset: 1}); total != 4 || len(items) != 1 || items[0].Action != store.AuditSearch {
		t.Errorf("page: %d %+v", total, items)
	}
	// Nobody else reads: another district's supervisor, operators, citizens, the system.
	for name, scope := range map[string]store.Scope{"padova": padova, "operator": op, "vedano": vedano, "citizen": citizen,
		"merchant": merchant, "system": store.System} {
		items, total, err := api.AuditLog(ctx, scope, store.AuditFilter{})
		if err != nil || total != 0 || len(items) != 0 {
			t.Errorf("%s sees %d rows (%v)", name, total, err)
		}
	}

	// Append-only: UPDATE, DELETE and TRUNCATE fail for the table owner
	// (the pool, outside any scope) and under the application role.
	for _, sql := range []string{
		`UPDATE audit_log SET reason = 'changed'`,
		`UPDATE audit_log SET reason = 'changed' WHERE false`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE id = -1`,
		`TRUNCATE audit_log`,
	} {
		if _, err := f.st.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("owner: %s succeeded", sql)
		}
		for _, scope := range []store.Scope{store.System, sup, op} {
			err := f.st.InTx(ctx, scope, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, sql)
				return err
			})
			if err == nil {
				t.Errorf("%s scope: %s succeeded", scope.Kind, sql)
			}
		}
	}
	var n int
	var reasons string
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*), string_agg(reason, '|') FROM audit_log`).Scan(&n, &reasons); err != nil {
		t.Fatal(err)
	}
	if n != 4 || strings.Contains(reasons, "changed") {
		t.Errorf("after the attempts: %d rows, reasons %q", n, reasons)
	}
}
