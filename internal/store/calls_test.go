package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/forms"
	"sportello/internal/store"
)

// TestCallsRowLevelSecurity checks the policies of migrations 026 and 036 per
// role: a supervisor reads and writes their own district's draft form
// versions and calls only; citizens and operators read the published calls
// of their district and write nothing; published form versions are read by
// everyone and never change, even for the system.
func TestCallsRowLevelSecurity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	api := f.st.API()
	now := time.Now()
	v1, _ := forms.MustRegistry().GetVersion("buoni-spesa", 1)
	if err := api.ImportFormVersion(ctx, "buoni-spesa", 1, v1.Schema, now); err != nil {
		t.Fatal(err)
	}
	if err := api.ImportFormVersion(ctx, "buoni-spesa", 1, v1.Schema, now); err != nil {
		t.Fatalf("a second import: %v", err)
	}
	tradate := store.Scope{Kind: "supervisor", District: "tradate"}
	padova := store.Scope{Kind: "supervisor", District: "alta-padovana"}
	citizen := store.Scope{Kind: "citizen", District: "tradate", Municipality: "tradate", UserID: f.citizen}
	operator := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}

	draftT, err := api.CreateFormVersion(ctx, tradate, "buoni-spesa", v1.Schema, "supervisore", now)
	if err != nil {
		t.Fatal(err)
	}
	draftP, err := api.CreateFormVersion(ctx, padova, "buoni-spesa", v1.Schema, "supervisore.padova", now)
	if err != nil {
		t.Fatal(err)
	}
	if draftT.Version != forms.FirstDistrictVersion || draftP.Version != forms.FirstDistrictVersion+1 {
		t.Fatalf("versions %d and %d, want %d and %d (the districts' range, numbered across districts)",
			draftT.Version, draftP.Version, forms.FirstDistrictVersion, forms.FirstDistrictVersion+1)
	}
	published, err := api.PublishedFormVersions(ctx) // the seed's imports of every embedded form
	if err != nil || len(published) == 0 {
		t.Fatalf("published versions: %d, %v", len(published), err)
	}
	n := len(published)
	for name, c := range map[string]struct {
		scope store.Scope
		want  int
	}{"tradate's supervisor": {tradate, n + 1}, "padova's supervisor": {padova, n + 1}, "citizen": {citizen, n}, "operator": {operator, n}} {
		got, err := api.FormVersions(ctx, c.scope)
		if err != nil || len(got) != c.want {
			t.Errorf("%s reads %d form versions (%v), want %d", name, len(got), err, c.want)
		}
	}
	if _, err := api.FormVersionOf(ctx, tradate, "buoni-spesa", draftP.Version); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another district's draft: %v", err)
	}
	if _, err := api.UpdateFormVersion(ctx, tradate, "buoni-spesa", draftP.Version, v1.Schema); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("editing another district's draft: %v", err)
	}
	if _, err := api.CreateFormVersion(ctx, citizen, "buoni-spesa", v1.Schema, "cittadino.tradate", now); err == nil {
		t.Error("a citizen created a form version")
	}
	// Published: never changes, not even for the system.
	if _, err := api.PublishFormVersion(ctx, tradate, "buoni-spesa", draftT.Version, now); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PublishFormVersion(ctx, tradate, "buoni-spesa", draftT.Version, now); err == nil {
		t.Error("published twice")
	}
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE form_versions SET schema = '{}' WHERE form_id = 'buoni-spesa' AND version = $1`, draftT.Version)
		return err
	}); err == nil {
		t.Error("the system changed a published form version")
	}

	terms := func(m string) store.CallTerms {
		return store.CallTerms{Municipality: m, Name: "Bando", FormID: "buoni-spesa", FormVersion: 1, Rule: []byte(`{}`),
			Tranches: []byte(`[]`), BudgetCents: 100_00, OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
	}
	callT, err := api.CreateCall(ctx, tradate, "call-t", terms("tradate"), "supervisore", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateCall(ctx, tradate, "call-x", terms("limena"), "supervisore", now); err == nil {
		t.Error("a call for another district's municipality")
	}
	if _, err := api.CreateCall(ctx, padova, "call-p", terms("limena"), "supervisore.padova", now); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateCall(ctx, citizen, "call-c", terms("tradate"), "cittadino.tradate", now); err == nil {
		t.Error("a citizen created a call")
	}
	count := func(scope store.Scope) int {
		n := 0
		if err := f.st.InTx(ctx, scope, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT count(*) FROM calls`).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(citizen); n != 0 {
		t.Errorf("a citizen reads %d draft calls", n)
	}
	if n := count(tradate); n != 1 {
		t.Errorf("tradate's supervisor reads %d calls", n)
	}
	if _, err := api.BeginCallPublication(ctx, padova, callT.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("padova publishes tradate's call: %v", err)
	}
	if _, err := api.BeginCallPublication(ctx, tradate, callT.ID, now); err != nil {
		t.Fatal(err)
	}
	// Being published (its budget commitment asked): still no one's but
	// the supervisors'.
	if n, m := count(citizen), count(operator); n != 0 || m != 0 {
		t.Errorf("a citizen reads %d calls being published, an operator %d", n, m)
	}
	if _, err := api.OpenCommittedCall(ctx, callT.ID, "IMP-T-1", callT.BudgetCents, now); err != nil {
		t.Fatal(err)
	}
	if n := count(citizen); n != 1 {
		t.Errorf("a citizen reads %d published calls", n)
	}
	if n := count(operator); n != 1 {
		t.Errorf("an operator reads %d published calls", n)
	}
	if err := f.st.InTx(ctx, citizen, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE calls SET name = 'x'`)
		if err == nil && tag.RowsAffected() > 0 {
			return errors.New("updated")
		}
		return nil
	}); err != nil {
		t.Errorf("a citizen changed a call: %v", err)
	}
	if _, err := api.UpdateCall(ctx, tradate, callT.ID, terms("tradate"), now); err == nil {
		t.Error("a published call's terms changed")
	}
	var balance int64
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT coalesce(sum(amount_cents), 0) FROM transfers WHERE fund_id = $1 AND kind = 'funding'`, callT.ID).Scan(&balance)
	}); err != nil || balance != 100_00 {
		t.Errorf("the call's fund was funded with %d (%v)", balance, err)
	}
}
