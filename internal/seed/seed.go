// Package seed loads the demo data of the platform.
//
// Where the line runs: everything a district is and shows comes from its
// district file in deploy/districts, applied through internal/district as
// `sportello district apply` does (districts.go): presentation,
// municipalities (cadastral codes, patron saints, office hours),
// cooperatives and their services, companies and their welfare plans,
// Social Points (one hosted by the demo company), shops, funds (the
// yearly food- and service-voucher calls), staff accounts (operators,
// supervisors, a shop's, a cooperative's and the company's welfare
// manager's account) and teams. A new district needs a file, not code
// here. What stays Go code is demo data about people, money and what they
// did: the demo citizens' registry extract (imported like any extract,
// registry.go) and accounts, their profiles, the demo service voucher
// (service_funds.go), the local campaign with its shops and accounts
// (campaigns.go), the demo company's top-up and its two enrolled
// employees (company.go: a file never funds a company and has no place
// for employees), and the public information pages (pages.go), which read
// the files' contacts and Social Points.
//
// Run is idempotent: everything is an upsert, funds already present are
// left alone, money moves through the ledger with idempotency keys, and
// passwords are hashed only for accounts that do not exist yet.
package seed

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Rome on machines without a zoneinfo database

	"github.com/jackc/pgx/v5"

	"sportello/forms"
	"sportello/internal/auth"
	"sportello/internal/store"
)

// Options control a seeding run.
type Options struct {
	// Demo also creates the demo accounts (password DemoPassword).
	Demo bool
	// Now dates the funds (zero: the current time). Funds open at the start
	// of Now's day in Europe/Rome.
	Now time.Time
	// DemoVouchers (with Demo) also gives cittadino.tradate an active
	// service voucher (service_funds.go), after the rest is committed.
	DemoVouchers bool
}

// The food-voucher funds of tradate.json: yearly calls, reviewed within
// ReviewWorkingDays working days.
const (
	ReviewWorkingDays = 3
	fundIDPrefix      = "buoni-spesa-"
	europeRomeName    = "Europe/Rome"
)

// FundID is the id of a municipality's food-voucher fund for a year (as
// tradate.json names them).
func FundID(municipality string, year int) string {
	return fmt.Sprintf("%s%s-%d", fundIDPrefix, municipality, year)
}

// Run seeds st. It runs in one transaction under the system scope.
func Run(ctx context.Context, st *store.Store, opts Options) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rome, err := time.LoadLocation(europeRomeName)
	if err != nil {
		return fmt.Errorf("seed: load %s: %w", europeRomeName, err)
	}
	local := now.In(rome)
	opens := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, rome)

	// Hash demo passwords outside the transaction, only for accounts that
	// are missing: hashing is deliberately slow.
	hashes := map[string]string{}
	if opts.Demo {
		for _, u := range seedUsers() {
			var exists bool
			if err := st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)`, u.Username).Scan(&exists); err != nil {
				return fmt.Errorf("seed: look up user %s: %w", u.Username, err)
			}
			if !exists {
				h, err := auth.HashPassword(DemoPassword)
				if err != nil {
					return fmt.Errorf("seed: hash password: %w", err)
				}
				hashes[u.Username] = h
			}
		}
	}

	files, err := DistrictFiles(opts.Demo)
	if err != nil {
		return err
	}
	fileHashes, err := hashesFor(ctx, st, files, opts.Demo)
	if err != nil {
		return err
	}

	err = st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		if err := applyDistrictFiles(ctx, tx, files, fileHashes, Options{Demo: opts.Demo, Now: now}); err != nil {
			return err
		}
		if err := seedInfoPages(ctx, tx); err != nil {
			return err
		}
		for _, m := range CampaignShops() {
			if err := upsertMerchant(ctx, tx, m); err != nil {
				return err
			}
		}
		if opts.Demo {
			for _, u := range seedUsers() {
				if err := upsertUser(ctx, tx, u, hashes[u.Username]); err != nil {
					return err
				}
			}
			if err := seedDemoProfiles(ctx, tx); err != nil {
				return err
			}
			if err := seedCampaigns(ctx, tx, local); err != nil { // campaigns.go
				return err
			}
			if err := seedCompany(ctx, tx, opens); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := importDemoExtracts(ctx, st, now); err != nil {
		return err
	}
	if err := importFormVersions(ctx, st, now); err != nil {
		return err
	}
	if !opts.Demo || !opts.DemoVouchers {
		return nil
	}
	return seedDemoServiceVoucher(ctx, st, now)
}

func upsertMerchant(ctx context.Context, tx pgx.Tx, m Merchant) error {
	if m.Category == "" {
		m.Category = map[string]string{"pharmacy": "health"}[m.Kind]
		if m.Category == "" {
			m.Category = "food"
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO merchants (id, district_id, municipality_id, name, kind, address, category)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET district_id = EXCLUDED.district_id, municipality_id = EXCLUDED.municipality_id,
			name = EXCLUDED.name, kind = EXCLUDED.kind, address = EXCLUDED.address, category = EXCLUDED.category
		WHERE (merchants.district_id, merchants.municipality_id, merchants.name, merchants.kind, merchants.address, merchants.category)
			IS DISTINCT FROM (EXCLUDED.district_id, EXCLUDED.municipality_id, EXCLUDED.name, EXCLUDED.kind, EXCLUDED.address, EXCLUDED.category)`,
		m.ID, m.District, m.Municipality, m.Name, m.Kind, m.Address, m.Category); err != nil {
		return fmt.Errorf("seed: merchant %s: %w", m.ID, err)
	}
	if err := store.EnsureAccount(ctx, tx, store.MerchantAccountID(m.ID), m.District, store.AccountMerchant, false); err != nil {
		return fmt.Errorf("seed: account of merchant %s: %w", m.ID, err)
	}
	return nil
}

// upsertUser creates a demo account with hash, or refreshes the profile of
// an existing one (its password is left alone).
func upsertUser(ctx context.Context, tx pgx.Tx, u DemoUser, hash string) error {
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	args := []any{u.Username, u.Role, u.DisplayName, u.District, nullable(u.Municipality), nullable(u.Merchant),
		nullable(u.TaxCode), nullable(u.Email), nullable(u.Cooperative)}
	tag, err := tx.Exec(ctx, `UPDATE users SET role = $2, display_name = $3, district_id = $4, municipality_id = $5,
			merchant_id = $6, tax_code = $7, email = $8, cooperative_id = $9
		WHERE username = $1
		  AND (role, display_name, district_id, municipality_id, merchant_id, tax_code, email, cooperative_id)
		      IS DISTINCT FROM ($2, $3, $4, $5, $6, $7, $8, $9)`, args...)
	if err != nil {
		return fmt.Errorf("seed: user %s: %w", u.Username, err)
	}
	if tag.RowsAffected() > 0 || hash == "" {
		return nil // updated, or present and unchanged
	}
	if _, err := tx.Exec(ctx, `INSERT INTO users (username, role, display_name, district_id, municipality_id, merchant_id,
			tax_code, email, cooperative_id, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (username) DO NOTHING`,
		append(args, hash)...); err != nil {
		return fmt.Errorf("seed: user %s: %w", u.Username, err)
	}
	return nil
}

// importFormVersions stores every embedded form schema as the platform's
// published version row (migration 026), once: a version already there is
// left alone. The API does the same on first use (internal/app/calls).
func importFormVersions(ctx context.Context, st *store.Store, now time.Time) error {
	reg, err := forms.NewRegistry()
	if err != nil {
		return fmt.Errorf("seed: forms: %w", err)
	}
	for _, v := range reg.All() {
		if err := st.API().ImportFormVersion(ctx, v.ID, v.Version, v.Schema, now); err != nil {
			return fmt.Errorf("seed: form %s version %d: %w", v.ID, v.Version, err)
		}
	}
	return nil
}
