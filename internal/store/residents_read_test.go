package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/seed"
	"sportello/internal/store"
)

// visibleResidents is the tax codes of the residents scope reads.
func visibleResidents(t *testing.T, st *store.Store, scope store.Scope) []string {
	t.Helper()
	var out []string
	err := st.InTx(context.Background(), scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT tax_code FROM residents ORDER BY tax_code`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("%+v: %v", scope, err)
	}
	return out
}

// Migration 022: the registry is read in the caller's scope. The system
// reads every resident; staff the residents of their district (an
// operator too: the district's Social Points serve its residents); a
// citizen their own row alone; merchants, cooperatives and the anonymous
// nothing. The pre-check (the system's) still finds the household, and a
// staff import still takes over a resident moving in from another
// district, which it could not read before.
func TestResidentsAreReadInScope(t *testing.T) {
	st := seededStore(t)
	ctx := context.Background()
	res := seed.Residents()
	maria, giovanni, paolo, elena := res[0].TaxCode(), res[1].TaxCode(), res[5].TaxCode(), res[7].TaxCode()
	all := visibleResidents(t, st, store.System)
	if len(all) != len(res) {
		t.Fatalf("the system reads %d residents, want the seed's %d", len(all), len(res))
	}
	var tradate []string
	for _, r := range res {
		if r.Municipality != "limena" && r.Municipality != "piazzola-sul-brenta" {
			tradate = append(tradate, r.TaxCode())
		}
	}
	slices.Sort(tradate)
	userID := func(username string) int64 {
		var id int64
		if err := st.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for name, c := range map[string]struct {
		scope store.Scope
		want  []string
	}{
		"supervisor of Tradate's district": {store.Scope{Kind: "supervisor", District: "tradate", UserID: userID("supervisore")}, tradate},
		"supervisor of Alta Padovana":      {store.Scope{Kind: "supervisor", District: "alta-padovana", UserID: userID("supervisore.padova")}, []string{paolo, elena}},
		"operator of Vedano Olona": {store.Scope{Kind: "operator", District: "tradate", Municipality: "vedano-olona",
			UserID: userID("operatore.vedano")}, tradate},
		"citizen Maria": {store.Scope{Kind: "citizen", District: "tradate", Municipality: "tradate",
			UserID: userID("cittadino.tradate")}, []string{maria}},
		"citizen Giovanni": {store.Scope{Kind: "citizen", District: "tradate", Municipality: "vedano-olona",
			UserID: userID("cittadino.vedano")}, []string{giovanni}},
		"citizen scope of a staff account": {store.Scope{Kind: "citizen", District: "tradate", UserID: userID("operatore.tradate")}, nil},
		"merchant":                         {store.Scope{Kind: "merchant", District: "tradate", Municipality: "tradate", UserID: userID("esercente.tradate")}, nil},
		"cooperative":                      {store.Scope{Kind: "cooperative", District: "tradate", UserID: userID("coop.baobab")}, nil},
		"anonymous":                        {store.Scope{Kind: "anonymous"}, nil},
	} {
		if got := visibleResidents(t, st, c.scope); !slices.Equal(got, c.want) {
			t.Errorf("%s reads %v, want %v", name, got, c.want)
		}
	}

	// The pre-check (system) still reads the applicant's household.
	var household string
	if err := st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT household_id FROM residents WHERE tax_code = $1`, maria).Scan(&household)
	}); err != nil || household != "100001" {
		t.Fatalf("the system's read of Maria's household: %q %v", household, err)
	}

	// Tradate's operator imports an extract naming Paolo, who lives in
	// Limena (another district, unreadable to them): he is new to
	// Tradate and his row is taken over; Tradate's own residents stay.
	op := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate", UserID: userID("operatore.tradate")}
	var rows []store.RegistryRow
	line := 2
	for _, r := range res {
		if r.Municipality == "tradate" || r.TaxCode() == paolo {
			rows = append(rows, store.RegistryRow{Line: line, TaxCode: r.TaxCode(), LastName: r.LastName, FirstName: r.FirstName,
				BirthDate: r.Born, Municipality: "tradate", Household: r.Household})
			line++
		}
	}
	in := store.RegistryImport{Municipality: "tradate", Rows: rows, FileName: "anagrafe.csv", Source: store.RegistrySourceAPI,
		SHA256: "0000000000000000000000000000000000000000000000000000000000000000", ActorID: op.UserID,
		ActorUsername: "operatore.tradate", At: time.Now()}
	in.DryRun = true
	diff, err := st.ImportRegistry(ctx, op, in)
	if err != nil || diff.New != 1 || diff.Gone != 0 || diff.Moved != 0 || len(diff.NewRows) != 1 || diff.NewRows[0].TaxCode != paolo {
		t.Fatalf("dry run: %+v %v", diff, err)
	}
	in.DryRun = false
	if diff, err = st.ImportRegistry(ctx, op, in); err != nil || diff.New != 1 {
		t.Fatalf("import: %+v %v", diff, err)
	}
	var m string
	if err := st.Pool.QueryRow(ctx, `SELECT municipality_id FROM residents WHERE tax_code = $1 AND ceased_at IS NULL`, paolo).Scan(&m); err != nil || m != "tradate" {
		t.Fatalf("Paolo after the import: %q %v", m, err)
	}
	if got := visibleResidents(t, st, store.Scope{Kind: "supervisor", District: "alta-padovana"}); !slices.Equal(got, []string{elena}) {
		t.Errorf("Alta Padovana's supervisor still reads %v", got)
	}

	// Another district's operator cannot use the import's functions to
	// read or move Tradate's residents.
	padovaOp := store.Scope{Kind: "operator", District: "alta-padovana", Municipality: "limena"}
	err = st.InTx(ctx, padovaOp, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM sportello_registry_known($1, 'tradate')`, []string{maria}).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("another district's operator reads %d rows of Tradate through sportello_registry_known", n)
		}
		if err := tx.QueryRow(ctx, `SELECT sportello_registry_move_in($1, 'tradate', now())`, []string{maria}).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("another district's operator moved %d rows into Tradate", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Migration 022 goes down (residents readable by everyone again) and up.
func TestResidentsReadMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 22, `SELECT to_regproc('sportello_own_tax_code') IS NOT NULL
		OR to_regproc('sportello_registry_known') IS NOT NULL OR to_regproc('sportello_registry_move_in') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'residents' AND policyname = 'residents_read' AND qual <> 'true')`,
		"the scoped read policy and its functions")
}
