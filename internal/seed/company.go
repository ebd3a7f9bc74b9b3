package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/district"
	"sportello/internal/store"
)

// The demo's company welfare plan (issue 15). The company, Meccanica
// Tradatese S.r.l., its plan, its welfare manager's account and the Social
// Point it hosts are Tradate's district data: deploy/districts/tradate.json
// declares them and the district apply writes them, as it would for any
// district. The plan's validity is relative to the day of the apply
// ("-60d" to "+305d", like the file's cooperative dates), so a demo
// applied on any day has a plan running, started before last month (whose
// statement can then be issued).
//
// What stays here is what a district file must not hold by design: money
// and people. A district file never funds a company (its schema: "funded
// by top-ups through the payment provider, never by the file") and has no
// place for employees, who are enrolled by tax code by the welfare manager
// and are allotted their credit from the company's funded account. So the
// demo's one top-up (booked as paid) and its two enrolled employees, Maria
// Rossi (cittadino.tradate, the demo citizen who can log in) and Luca
// Colombo, demo residents of this package, are demo seed data (seedCompany).

// DemoCompanyID is the demo company (tradate.json).
const DemoCompanyID = "meccanica-tradatese"

// DemoCompanyPlanID is the demo company's plan (tradate.json).
const DemoCompanyPlanID = "meccanica-tradatese-piano"

// DemoWelfareManager is the username of the demo company's welfare manager
// (an account of tradate.json).
const DemoWelfareManager = "welfare.meccanica"

// DemoCompanyCreditCents is the annual credit per employee of the demo
// plan, as tradate.json says (TestDemoCompanyIsTradateFileData).
const DemoCompanyCreditCents = 60_000

// DemoCompanyPointID is the Social Point the demo company hosts at its
// premises (tradate.json: open at lunch time on two days, its own hours,
// kept by its welfare manager).
const DemoCompanyPointID = "sp-meccanica-tradatese"

// demoCompanyTopUpCents is what the demo top-up paid into the company's account.
const demoCompanyTopUpCents = 300_000

// demoCompanyTopUpID is the demo top-up.
const demoCompanyTopUpID = "6f0c2d1e-0000-4000-8000-000000000001"

// demoCompanyFile is the demo company as tradate.json declares it; the
// embedded files are checked by the tests, so a failure here is a broken
// build.
func demoCompanyFile() district.Company {
	f, err := DistrictFile(tradate)
	if err != nil {
		panic(err)
	}
	for _, c := range f.Companies {
		if c.ID == DemoCompanyID {
			return c
		}
	}
	panic("seed: tradate.json has no company " + DemoCompanyID)
}

// DemoCompany is the demo company (tradate.json).
func DemoCompany() store.Company {
	c := demoCompanyFile()
	return store.Company{ID: c.ID, District: tradate, Name: c.Name, VATNumber: c.VATNumber}
}

// DemoCompanyPlan is the demo company's plan (tradate.json) as an apply
// of the file on the day of today (in Italy) writes it.
func DemoCompanyPlan(today time.Time) store.CompanyPlan {
	for _, p := range demoCompanyFile().Plans {
		if p.ID != DemoCompanyPlanID {
			continue
		}
		day := today.In(calendar.Rome())
		from, errFrom := district.Day(p.ValidFrom, day)
		until, errUntil := district.Day(p.ValidUntil, day)
		if errFrom != nil || errUntil != nil {
			panic(fmt.Sprintf("seed: plan %s: %v %v", p.ID, errFrom, errUntil))
		}
		return store.CompanyPlan{ID: p.ID, CompanyID: DemoCompanyID, Name: p.Name, AnnualCreditCents: p.AnnualCreditCents,
			Categories: p.Categories, ValidFrom: from, ValidUntil: until}
	}
	panic("seed: tradate.json has no plan " + DemoCompanyPlanID)
}

// DemoCompanyEmployees are the tax codes enrolled in the demo plan: Maria
// Rossi (cittadino.tradate) and Luca Colombo.
func DemoCompanyEmployees() []string {
	res := Residents()
	return []string{res[0].TaxCode(), res[2].TaxCode()}
}

// seedCompany funds the demo company (applied from tradate.json just
// before, in the same transaction) and enrols its employees in its plan;
// idempotent.
func seedCompany(ctx context.Context, tx pgx.Tx, today time.Time) error {
	c, plan := DemoCompany(), DemoCompanyPlan(today)
	// The demo's funding: one top-up, recorded as paid (the demo has no
	// provider's payment behind it; real top-ups are booked only once the
	// provider confirms them, company.Service.ConfirmTopUp).
	if err := store.EnsureAccount(ctx, tx, store.CompanyPaymentsAccountID(c.District), c.District, store.AccountPayments, true); err != nil {
		return err
	}
	tid, _, err := store.Transfer(ctx, tx, store.TransferInput{Key: "topup:" + demoCompanyTopUpID, From: store.CompanyPaymentsAccountID(c.District),
		To: store.CompanyAccountID(c.ID), Amount: demoCompanyTopUpCents, Kind: store.TransferTopUp})
	if err != nil {
		return fmt.Errorf("seed: company top-up: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO company_topups (id, company_id, district_id, amount_cents, status, transfer_id, paid_at)
		VALUES ($1, $2, $3, $4, 'paid', $5, now()) ON CONFLICT (id) DO NOTHING`, demoCompanyTopUpID, c.ID, c.District, demoCompanyTopUpCents, tid); err != nil {
		return fmt.Errorf("seed: company top-up: %w", err)
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
