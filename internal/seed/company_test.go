package seed

import (
	"context"
	"slices"
	"testing"
	"time"

	"sportello/internal/calendar"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// TestDemoCompanyIsTradateFileData: the demo company, its plan, its
// welfare manager and the Social Point it hosts are tradate.json's, with
// the ids and the credit the tests name; the plan is running on any day
// the demo is applied, and started before last month.
func TestDemoCompanyIsTradateFileData(t *testing.T) {
	f, err := DistrictFile(tradate)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Companies) != 1 || f.Companies[0].ID != DemoCompanyID || len(f.Companies[0].Plans) != 1 {
		t.Fatalf("tradate.json's companies: %+v", f.Companies)
	}
	if p := f.Companies[0].Plans[0]; p.ID != DemoCompanyPlanID || p.AnnualCreditCents != DemoCompanyCreditCents {
		t.Errorf("the demo plan: %+v", p)
	}
	if c := DemoCompany(); c.Name != "Meccanica Tradatese S.r.l." || c.District != tradate || c.VATNumber == "" {
		t.Errorf("DemoCompany() = %+v", c)
	}
	managers := 0
	for _, a := range f.Accounts {
		if a.Company == DemoCompanyID {
			managers++
			if a.Username != DemoWelfareManager || a.Role != "welfare_manager" {
				t.Errorf("the company's account: %+v", a)
			}
		}
	}
	if managers != 1 {
		t.Errorf("%d welfare managers of the demo company in tradate.json", managers)
	}
	if !slices.ContainsFunc(DemoUsers(), func(u DemoUser) bool { return u.Username == DemoWelfareManager }) ||
		slices.ContainsFunc(seedUsers(), func(u DemoUser) bool { return u.Username == DemoWelfareManager }) {
		t.Errorf("%s is not a demo user, or is created by the seed rather than by the file", DemoWelfareManager)
	}
	hosted := 0
	for _, p := range f.SocialPoints {
		if p.HostCompany == DemoCompanyID {
			hosted++
			if p.ID != DemoCompanyPointID || len(p.Hours) != 2 {
				t.Errorf("the hosted point: %+v", p)
			}
		}
	}
	if hosted != 1 {
		t.Errorf("%d points hosted by the demo company", hosted)
	}
	for _, day := range []time.Time{time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2031, 12, 31, 22, 30, 0, 0, time.UTC)} {
		p := DemoCompanyPlan(day)
		local := day.In(calendar.Rome())
		today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		lastMonth := time.Date(local.Year(), local.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		if p.ValidFrom.After(lastMonth) || p.ValidUntil.Before(today) || p.ValidUntil.Sub(p.ValidFrom) < 364*24*time.Hour {
			t.Errorf("on %v the plan runs %v to %v", day, p.ValidFrom, p.ValidUntil)
		}
	}
}

// TestDemoCompanySeeded: the seed applies the company from tradate.json and
// adds what the file may not hold, the top-up and the two employees; run
// again on the same day nothing changes, and on a day a year later the
// plan still runs, with the same employees and no second top-up.
func TestDemoCompanySeeded(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	type state struct {
		plan, manager, point string
		from, until          time.Time
		enrolled, topUps     int
		balance              int64
	}
	read := func(day time.Time) state {
		t.Helper()
		var s state
		err := st.Pool.QueryRow(ctx, `SELECT
				coalesce((SELECT p.id FROM company_plans p WHERE p.company_id = $1 AND p.valid_from <= $2::date AND p.valid_until >= $2::date), ''),
				(SELECT p.valid_from FROM company_plans p WHERE p.id = $3), (SELECT p.valid_until FROM company_plans p WHERE p.id = $3),
				coalesce((SELECT u.username FROM company_managers m JOIN users u ON u.id = m.user_id WHERE m.company_id = $1), ''),
				coalesce((SELECT sp.id FROM social_points sp WHERE sp.host_company_id = $1), ''),
				(SELECT count(*) FROM company_employees WHERE company_id = $1 AND plan_id = $3 AND status = 'enrolled'),
				(SELECT count(*) FROM company_topups WHERE company_id = $1 AND status = 'paid')`,
			DemoCompanyID, day.Format(time.DateOnly), DemoCompanyPlanID).
			Scan(&s.plan, &s.from, &s.until, &s.manager, &s.point, &s.enrolled, &s.topUps)
		if err != nil {
			t.Fatal(err)
		}
		if s.balance, err = store.Balance(ctx, st.Pool, store.CompanyAccountID(DemoCompanyID)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := func(s state, day time.Time) {
		t.Helper()
		if s.plan != DemoCompanyPlanID || s.manager != DemoWelfareManager || s.point != DemoCompanyPointID ||
			s.enrolled != len(DemoCompanyEmployees()) || s.topUps != 1 ||
			s.balance != demoCompanyTopUpCents-int64(len(DemoCompanyEmployees()))*DemoCompanyCreditCents {
			t.Errorf("on %s: %+v", day.Format(time.DateOnly), s)
		}
		if p := DemoCompanyPlan(day); !p.ValidFrom.Equal(s.from) || !p.ValidUntil.Equal(s.until) {
			t.Errorf("on %s the plan runs %v to %v, DemoCompanyPlan says %v to %v", day.Format(time.DateOnly), s.from, s.until, p.ValidFrom, p.ValidUntil)
		}
	}
	day := time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC)
	for range 2 {
		if err := Run(ctx, st, Options{Demo: true, Now: day}); err != nil {
			t.Fatal(err)
		}
		want(read(day), day)
	}
	later := day.AddDate(1, 0, 0)
	if err := Run(ctx, st, Options{Demo: true, Now: later}); err != nil {
		t.Fatal(err)
	}
	want(read(later), later)
	if msg, err := store.LedgerCheck(ctx, st.Pool); err != nil || msg != "" {
		t.Fatalf("LedgerCheck = %q, %v", msg, err)
	}
}
