package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"sportello/deploy/districts"
	"sportello/internal/district"
	"sportello/internal/store"
)

// The district files of deploy/districts (issue 15) are applied by the
// seed through the code of `sportello district apply`: tradate.json gives
// the Tradate district its presentation (the rest of its demo data is Go
// code in this package), bene-comune.json is the whole Welfare Bene
// Comune district (id alta-padovana), which has no code here but the
// registry entries of its demo citizens (Residents). Without demo mode the
// files' accounts are left out.

// DistrictFiles returns the demo district files, checked; without demo,
// without their accounts.
func DistrictFiles(demo bool) ([]district.File, error) {
	var out []district.File
	for _, name := range districts.Demo {
		f, err := district.LoadFS(districts.Files, name)
		if err != nil {
			return nil, fmt.Errorf("seed: %s: %w", name, err)
		}
		if !demo {
			f.Accounts = nil
		}
		out = append(out, f)
	}
	return out, nil
}

// applyDistrictFiles applies files in tx, with the password hashes of
// district.Hashes.
func applyDistrictFiles(ctx context.Context, tx pgx.Tx, files []district.File, hashes map[string]string, opts Options) error {
	for _, f := range files {
		if _, err := district.ApplyTx(ctx, tx, f, hashes, district.Options{Demo: opts.Demo, Now: opts.Now}); err != nil {
			return fmt.Errorf("seed: district %s: %w", f.ID, err)
		}
	}
	return nil
}

// fileMunicipalities maps the municipalities of the demo district files to
// their cadastral codes.
func fileMunicipalities() map[string]string {
	files, err := DistrictFiles(false)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	out := map[string]string{}
	for _, f := range files {
		for _, m := range f.Municipalities {
			out[m.ID] = m.CadastralCode
		}
	}
	return out
}

// hashesFor are the password hashes of the files' new accounts.
func hashesFor(ctx context.Context, st *store.Store, files []district.File, demo bool) (map[string]string, error) {
	return district.Hashes(ctx, st, files, district.Options{Demo: demo})
}
