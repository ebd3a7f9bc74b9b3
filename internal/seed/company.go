package seed

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
	"sportello/internal/store"
)

// The demo's company welfare plan (issue 15): one company in Tradate, its
// plan for the current year, an account funded by one top-up, two
// employees (Maria Rossi, the demo citizen who can log in, and Luca
// Colombo) and its welfare manager's account.

// DemoCompanyID is the demo company.
const DemoCompanyID = "meccanica-tradatese"

// DemoWelfareManager is the username of the demo company's welfare manager.
const DemoWelfareManager = "welfare.meccanica"

// DemoCompanyCreditCents is the annual credit per employee of the demo plan.
const DemoCompanyCreditCents = 60_000

// demoCompanyTopUpCents is what the demo top-up paid into the company's account.
const demoCompanyTopUpCents = 300_000

// DemoCompany is the demo company.
func DemoCompany() store.Company {
	return store.Company{ID: DemoCompanyID, District: "tradate", Name: "Meccanica Tradatese S.r.l.", VATNumber: "02468013574"}
}

// DemoCompanyPlanID is the id of the demo company's plan of year.
func DemoCompanyPlanID(year int) string { return DemoCompanyID + "-" + strconv.Itoa(year) }

// DemoCompanyPlan is the demo company's plan of the year of today.
func DemoCompanyPlan(today time.Time) store.CompanyPlan {
	y := today.Year()
	return store.CompanyPlan{ID: DemoCompanyPlanID(y), CompanyID: DemoCompanyID, Name: "Piano welfare " + strconv.Itoa(y),
		AnnualCreditCents: DemoCompanyCreditCents, Categories: []string{"youcare", "childcare", "silvercare", "familycare"},
		ValidFrom: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)}
}

// DemoCompanyEmployees are the tax codes enrolled in the demo plan: Maria
// Rossi (cittadino.tradate) and Luca Colombo.
func DemoCompanyEmployees() []string {
	res := Residents()
	return []string{res[0].TaxCode(), res[2].TaxCode()}
}

// companyDemoUsers are the demo accounts of company welfare.
func companyDemoUsers() []DemoUser {
	return []DemoUser{{Username: DemoWelfareManager, Role: string(contract.RoleWelfareManager), DisplayName: "Welfare Meccanica Tradatese",
		District: "tradate", Email: "welfare@meccanica-tradatese.example"}}
}

// seedCompany creates the demo company, its plan of the year of today, its
// funding and its employees; idempotent.
func seedCompany(ctx context.Context, tx pgx.Tx, today time.Time) error {
	c, plan := DemoCompany(), DemoCompanyPlan(today)
	if err := store.UpsertCompany(ctx, tx, c); err != nil {
		return fmt.Errorf("seed: company: %w", err)
	}
	if err := store.UpsertCompanyPlan(ctx, tx, c.District, plan); err != nil {
		return fmt.Errorf("seed: company plan: %w", err)
	}
	if err := store.SetCompanyManager(ctx, tx, DemoWelfareManager, c.ID); err != nil {
		return fmt.Errorf("seed: company manager: %w", err)
	}
	// The demo's funding: one top-up, recorded as paid (the demo has no
	// provider's payment behind it; real top-ups are booked only once the
	// provider confirms them, company.Service.ConfirmTopUp).
	topUp := "6f0c2d1e-0000-4000-8000-" + fmt.Sprintf("%012d", plan.ValidFrom.Year())
	if err := store.EnsureAccount(ctx, tx, store.CompanyPaymentsAccountID(c.District), c.District, store.AccountPayments, true); err != nil {
		return err
	}
	tid, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "topup:" + topUp, From: store.CompanyPaymentsAccountID(c.District),
		To: store.CompanyAccountID(c.ID), Amount: demoCompanyTopUpCents, Kind: store.TransferTopUp})
	if err != nil {
		return fmt.Errorf("seed: company top-up: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO company_topups (id, company_id, district_id, amount_cents, status, transfer_id, paid_at)
		VALUES ($1, $2, $3, $4, 'paid', $5, now()) ON CONFLICT (id) DO NOTHING`, topUp, c.ID, c.District, demoCompanyTopUpCents, tid); err != nil {
		return fmt.Errorf("seed: company top-up: %w", err)
	}
	if err := store.UpsertSocialPoint(ctx, tx, DemoCompanyPoint()); err != nil {
		return fmt.Errorf("seed: company social point: %w", err)
	}
	for _, tc := range DemoCompanyEmployees() {
		var enrolled bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM company_employees WHERE plan_id = $1 AND tax_code = $2 AND status = 'enrolled')`,
			plan.ID, tc).Scan(&enrolled); err != nil {
			return fmt.Errorf("seed: company employee: %w", err)
		}
		if enrolled {
			continue
		}
		if _, err := store.EnrolInTx(ctx, tx, c, plan, tc, 0); err != nil {
			return fmt.Errorf("seed: company employee: %w", err)
		}
	}
	return nil
}

// DemoCompanyPointID is the Social Point the demo company hosts.
const DemoCompanyPointID = "sp-meccanica-tradatese"

// DemoCompanyPoint is the Social Point the demo company hosts at its
// premises, open at lunch time on two days (its own hours, kept by its
// welfare manager).
func DemoCompanyPoint() store.SocialPoint {
	return store.SocialPoint{ID: DemoCompanyPointID, District: "tradate", Municipality: "tradate",
		Name: "Social Point Meccanica Tradatese", Address: "Via dell'Industria 12, 21049 Tradate (VA)",
		Email: "socialpoint@meccanica-tradatese.example", SlotMinutes: 30, HostCompanyID: DemoCompanyID,
		Hours: []store.OpeningHours{{Weekday: 2, Opens: "12:30", Closes: "14:00"}, {Weekday: 4, Opens: "12:30", Closes: "14:00"}}}
}
