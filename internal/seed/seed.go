// Package seed loads the reference data of the platform: the district
// files of deploy/districts (districts.go: Tradate's presentation and the
// whole Welfare Bene Comune district), then the Tradate district's
// municipalities, a funded food-voucher fund per municipality, affiliated
// merchants, a registry extract for the
// demo citizens (imported like any extract, registry.go) and, in demo mode, one account per role.
//
// Run is idempotent: everything is an upsert, funds already present are
// left alone, money moves through the ledger with idempotency keys, and
// passwords are hashed only for accounts that do not exist yet.
package seed

import (
	"context"
	"fmt"
	"math"
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

// Fund parameters of the food-voucher funds.
const (
	EuroPerResident    = 3
	MinBudgetCents     = 5_000_00
	ISEEThresholdCents = 15_000_00
	ReviewWorkingDays  = 3
	// FourEyesAboveCents: awards above EUR 500 need a second approver.
	FourEyesAboveCents = 500_00
	// InfoReplyWorkingDays a citizen has to answer a request for information.
	InfoReplyWorkingDays = 10
	FundOpenDays         = 60
	FundExpiryDays       = 120
	foodVoucherRule      = `{"base_cents":15000,"per_extra_member_cents":10000,"per_minor_cents":5000,"max_cents":55000}`
	foodVoucherTranches  = `[{"percent":50,"after_days":0},{"percent":50,"after_days":14}]`
	budgetRoundingCents  = 1_000_00
	fundingKeyPrefix     = "funding:"
	fundIDPrefix         = "buoni-spesa-"
	fundNamePrefix       = "Buoni spesa "
	europeRomeName       = "Europe/Rome"
)

// FundID is the id of a municipality's food-voucher fund for a year.
func FundID(municipality string, year int) string {
	return fmt.Sprintf("%s%s-%d", fundIDPrefix, municipality, year)
}

// BudgetCents is the food-voucher budget of a municipality: about EUR 3 per
// resident, rounded to EUR 1,000, at least EUR 5,000.
func BudgetCents(residents int) int64 {
	cents := int64(residents) * EuroPerResident * 100
	rounded := int64(math.Round(float64(cents)/budgetRoundingCents)) * budgetRoundingCents
	if rounded < MinBudgetCents {
		return MinBudgetCents
	}
	return rounded
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
		for _, u := range DemoUsers() {
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
		for _, d := range Districts() {
			if err := upsertDistrict(ctx, tx, d); err != nil {
				return err
			}
			for _, m := range d.Municipalities {
				if err := ensureFund(ctx, tx, d, m, opens); err != nil {
					return err
				}
				if err := ensureServiceFund(ctx, tx, d, m, opens); err != nil {
					return err
				}
			}
		}
		if err := seedSocialPoints(ctx, tx); err != nil {
			return err
		}
		if err := seedInfoPages(ctx, tx); err != nil {
			return err
		}
		for _, m := range append(Merchants(), CampaignShops()...) {
			if err := upsertMerchant(ctx, tx, m); err != nil {
				return err
			}
		}
		if err := seedCatalogue(ctx, tx, opens); err != nil {
			return err
		}
		if opts.Demo {
			for _, u := range DemoUsers() {
				if err := upsertUser(ctx, tx, u, hashes[u.Username]); err != nil {
					return err
				}
			}
			if err := seedTeams(ctx, tx); err != nil {
				return err
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

func upsertDistrict(ctx context.Context, tx pgx.Tx, d District) error {
	// The district's name and presentation come from its district file
	// (applied first): the row is only created here when missing.
	if _, err := tx.Exec(ctx, `INSERT INTO districts (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		d.ID, d.Name); err != nil {
		return fmt.Errorf("seed: district %s: %w", d.ID, err)
	}
	for _, m := range d.Municipalities {
		// New municipalities get default office hours for due dates; patron-saint
		// days are left to each municipality to configure (set by local custom).
		if _, err := tx.Exec(ctx, `INSERT INTO municipalities (id, district_id, name, cadastral_code, residents, office_opens, office_closes)
			VALUES ($1, $2, $3, $4, $5, '08:30', '17:00')
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, cadastral_code = EXCLUDED.cadastral_code,
				residents = EXCLUDED.residents
			WHERE (municipalities.name, municipalities.cadastral_code, municipalities.residents)
				IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.cadastral_code, EXCLUDED.residents)`,
			m.ID, d.ID, m.Name, m.CadastralCode, m.Residents); err != nil {
			return fmt.Errorf("seed: municipality %s: %w", m.ID, err)
		}
	}
	if err := store.EnsureAccount(ctx, tx, store.FundingAccountID(d.ID), d.ID, store.AccountFunding, true); err != nil {
		return fmt.Errorf("seed: funding account of %s: %w", d.ID, err)
	}
	return nil
}

// ensureFund creates and funds a municipality's food-voucher fund for the
// year of opens. A fund already present is left as it is.
//
// A seeded fund is demo data, not a call: no supervisor published it, so
// it asks no budget commitment of the accounting system and records none
// (the sandbox's commitments live in its memory and would be gone at the
// next start anyway). The ledger check's call_fund_committed covers the
// funds of calls (migration 036); the seeded funds, the service funds and
// those of the district files are funded as they are.
func ensureFund(ctx context.Context, tx pgx.Tx, d District, m Municipality, opens time.Time) error {
	id := FundID(m.ID, opens.Year())
	var created string
	err := tx.QueryRow(ctx, `INSERT INTO funds (id, district_id, municipality_id, form_id, name, isee_threshold_cents,
			rule, tranches, review_working_days, opens_at, closes_at, expires_at, four_eyes_above_cents, info_reply_working_days,
			form_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO NOTHING RETURNING id`,
		id, d.ID, m.ID, FoodVoucherForm, fmt.Sprintf("%s%d - %s", fundNamePrefix, opens.Year(), m.Name),
		int64(ISEEThresholdCents), foodVoucherRule, foodVoucherTranches, ReviewWorkingDays,
		opens, opens.AddDate(0, 0, FundOpenDays), opens.AddDate(0, 0, FundExpiryDays),
		int64(FourEyesAboveCents), InfoReplyWorkingDays, FoodVoucherFormVersion).Scan(&created)
	if err == pgx.ErrNoRows {
		return nil // already there: never reopened or refunded
	}
	if err != nil {
		return fmt.Errorf("seed: fund %s: %w", id, err)
	}
	if err := store.EnsureAccount(ctx, tx, store.FundAccountID(id), d.ID, store.AccountFund, false); err != nil {
		return fmt.Errorf("seed: account of fund %s: %w", id, err)
	}
	if _, _, err := store.Transfer(ctx, tx, store.TransferInput{
		Key:    fundingKeyPrefix + id,
		From:   store.FundingAccountID(d.ID),
		To:     store.FundAccountID(id),
		Amount: BudgetCents(m.Residents),
		Kind:   store.TransferFunding,
		FundID: id,
	}); err != nil {
		return fmt.Errorf("seed: fund %s: %w", id, err)
	}
	return nil
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
