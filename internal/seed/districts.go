package seed

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"

	"sportello/deploy/districts"
	"sportello/internal/district"
	"sportello/internal/store"
)

// The district files of deploy/districts (issue 15) are applied by the
// seed through the code of `sportello district apply`: everything a
// district is (presentation, municipalities, cooperatives and services,
// companies and their plans, Social Points, shops, funds, staff accounts,
// teams) is in its file, tradate.json and bene-comune.json (Welfare Bene
// Comune, id alta-padovana). Without demo mode the files' accounts are
// left out (the teams get no members, the companies no welfare manager).

// loaded are the demo district files, read and checked once.
var loaded = sync.OnceValues(func() ([]district.File, error) {
	var out []district.File
	for _, name := range districts.Demo {
		f, err := district.LoadFS(districts.Files, name)
		if err != nil {
			return nil, fmt.Errorf("seed: %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
})

// DistrictFiles returns the demo district files, checked; without demo,
// without their accounts. The files are shared: do not change what their
// sections hold.
func DistrictFiles(demo bool) ([]district.File, error) {
	files, err := loaded()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(files)
	if !demo {
		for i := range out {
			out[i].Accounts = nil
		}
	}
	return out, nil
}

// DistrictFile returns the demo district file of district id (with its
// accounts).
func DistrictFile(id string) (district.File, error) {
	files, err := DistrictFiles(true)
	if err != nil {
		return district.File{}, err
	}
	for _, f := range files {
		if f.ID == id {
			return f, nil
		}
	}
	return district.File{}, fmt.Errorf("seed: no district file of %q", id)
}

// mustFiles are the demo district files; the embedded files are checked
// by the tests, so a failure here is a broken build.
func mustFiles() []district.File {
	files, err := DistrictFiles(true)
	if err != nil {
		panic(err)
	}
	return files
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
	out := map[string]string{}
	for _, f := range mustFiles() {
		for _, m := range f.Municipalities {
			out[m.ID] = m.CadastralCode
		}
	}
	return out
}

// fileStaff are the accounts of the Tradate district's file as demo users.
func fileStaff() []DemoUser {
	f, err := DistrictFile(tradate)
	if err != nil {
		panic(err)
	}
	var out []DemoUser
	for _, a := range f.Accounts {
		out = append(out, DemoUser{Username: a.Username, Role: a.Role, DisplayName: a.DisplayName, District: f.ID,
			Municipality: a.Municipality, Merchant: a.Shop, Cooperative: a.Cooperative, TaxCode: a.TaxCode, Email: a.Email})
	}
	return out
}

// hashesFor are the password hashes of the files' new accounts.
func hashesFor(ctx context.Context, st *store.Store, files []district.File, demo bool) (map[string]string, error) {
	return district.Hashes(ctx, st, files, district.Options{Demo: demo})
}
