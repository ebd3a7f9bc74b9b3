package seed

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"sportello/internal/registry"
	"sportello/internal/store"
)

// The demo citizens reach the population registry the way every resident
// does: their municipality's extract, a CSV file, imported by
// internal/registry (the code behind `sportello registry import` and the
// portal's import page).

// DemoExtract is the registry extract (CSV) of the demo residents of
// municipality, as a municipality would export it.
func DemoExtract(municipality string) []byte {
	cadastral := fileMunicipalities()
	var rows []store.RegistryRow
	for _, r := range Residents() {
		if r.Municipality == municipality {
			rows = append(rows, store.RegistryRow{TaxCode: r.TaxCode(), LastName: r.LastName, FirstName: r.FirstName,
				BirthDate: r.Born, Municipality: cadastral[r.Municipality], Household: r.Household})
		}
	}
	var b bytes.Buffer
	if err := registry.Write(&b, rows); err != nil {
		panic("seed: write demo extract: " + err.Error()) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// demoMunicipalities are the municipalities with demo residents, sorted.
func demoMunicipalities() []string {
	var out []string
	for _, r := range Residents() {
		if !slices.Contains(out, r.Municipality) {
			out = append(out, r.Municipality)
		}
	}
	slices.Sort(out)
	return out
}

// importDemoExtracts imports the demo extract of every municipality with
// demo residents, unless its registry has been imported from a real
// extract (then the demo one would mark its residents gone). An extract
// that changes nothing leaves no record (the seed runs at every start of
// the dev stack).
func importDemoExtracts(ctx context.Context, st *store.Store, now time.Time) error {
	rows, err := st.Pool.Query(ctx, `SELECT DISTINCT municipality_id FROM registry_imports
		WHERE status = 'applied' AND source <> $1`, store.RegistrySourceSeed)
	if err != nil {
		return fmt.Errorf("seed: registry imports: %w", err)
	}
	var real []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return fmt.Errorf("seed: registry imports: %w", err)
		}
		real = append(real, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("seed: registry imports: %w", err)
	}
	for _, m := range demoMunicipalities() {
		if slices.Contains(real, m) {
			continue
		}
		if _, err := registry.Import(ctx, st, store.System, registry.Request{Data: DemoExtract(m),
			FileName: "anagrafe-demo-" + m + ".csv", Municipality: m, Source: store.RegistrySourceSeed,
			Actor: "seed", At: now, QuietWhenUnchanged: true}); err != nil {
			return fmt.Errorf("seed: registry extract of %s: %w", m, err)
		}
	}
	return nil
}
