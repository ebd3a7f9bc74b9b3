package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/calendar"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// dashFixture writes a known week (Monday 2 to Sunday 8 March 2020, long
// before anything the seed writes) of the district of Tradate: cases,
// review tasks, two funds of that year with their ledger, a redemption,
// two bookings and an incident. TestDashboardFigures reads it back.
func dashFixture(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	at := func(day, hour int) time.Time { return time.Date(2020, 3, day, hour, 0, 0, 0, calendar.Rome()) }
	err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		var err error
		exec := func(sql string, args ...any) {
			if err == nil {
				_, err = tx.Exec(ctx, sql, args...)
			}
		}
		// Cases: Tradate 3 on Monday, 1 + 1 of another form on Wednesday;
		// Vedano Olona 2 on Tuesday; one in Tradate the Monday after.
		cases := []struct {
			id, mun, form string
			at            time.Time
		}{
			{"DSH-1", "tradate", "buoni-spesa", at(2, 9)}, {"DSH-2", "tradate", "buoni-spesa", at(2, 10)},
			{"DSH-3", "tradate", "buoni-spesa", at(2, 23)}, {"DSH-4", "tradate", "buoni-spesa", at(4, 9)},
			{"DSH-5", "tradate", "altro-modulo", at(4, 10)}, {"DSH-6", "vedano-olona", "buoni-spesa", at(3, 9)},
			{"DSH-7", "vedano-olona", "buoni-spesa", at(3, 10)}, {"DSH-8", "tradate", "buoni-spesa", at(9, 9)},
		}
		for _, c := range cases {
			exec(`INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id, form_version, fund_id,
					data, status, workflow_id, request_hash, created_at)
				VALUES ($1, 'tradate', $2, $3, 'TAX' || $1, $4, 1, $5, '{}', 'approved', 'case:' || $1, 'h', $6)`,
				c.id, c.mun, f.citizen, c.form, f.fundID, c.at)
		}
		exec(`INSERT INTO teams (id, district_id, name) VALUES ('dash-team', 'tradate', 'Squadra cruscotto')`)
		// Review tasks: decided in 24 h (on time) and in 96 h (late), one
		// open and overdue, one claimed and due in 2099.
		tasks := []struct {
			id, caseID, mun, status string
			created, due            time.Time
			completed               any
			team                    any
		}{
			{"00000000-0000-0000-0000-00000000d501", "DSH-1", "tradate", "done", at(2, 10), at(5, 10), at(3, 10), nil},
			{"00000000-0000-0000-0000-00000000d502", "DSH-2", "tradate", "done", at(2, 10), at(5, 10), at(6, 10), nil},
			{"00000000-0000-0000-0000-00000000d503", "DSH-4", "tradate", "open", at(4, 10), at(7, 10), nil, "dash-team"},
			{"00000000-0000-0000-0000-00000000d504", "DSH-6", "vedano-olona", "claimed",
				at(3, 10), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), nil, "dash-team"},
		}
		for _, k := range tasks {
			exec(`INSERT INTO tasks (id, case_id, district_id, municipality_id, kind, status, due_at, created_at, completed_at, team_id)
				VALUES ($1, $2, 'tradate', $3, 'review', $4, $5, $6, $7, $8)`, k.id, k.caseID, k.mun, k.status, k.due, k.created, k.completed, k.team)
		}
		// Two funds of 2020 in Tradate and their vouchers.
		exec(`INSERT INTO funds (id, district_id, municipality_id, form_id, name, isee_threshold_cents, rule, tranches,
				opens_at, closes_at, expires_at, kind, service_categories)
			VALUES ('dash-food', 'tradate', 'tradate', 'buoni-spesa', 'Spesa 2020', 1500000, '{}', '[]', $1, $2, $3, 'food', '{}'),
				('dash-service', 'tradate', 'tradate', 'buono-servizi', 'Servizi 2020', 1500000, '{}', '[]', $1, $2, $3, 'service', '{youcare}')`,
			time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC))
		exec(`INSERT INTO vouchers (id, code, case_id, fund_id, district_id, municipality_id, holder_id, tax_code, amount_cents, status, expires_at)
			VALUES ('00000000-0000-0000-0000-00000000d601', 'DSH-V1', 'DSH-1', 'dash-food', 'tradate', 'tradate', $1, 'TAXDSH-1', 30000, 'active', '2020-12-31'),
				('00000000-0000-0000-0000-00000000d602', 'DSH-V2', 'DSH-2', 'dash-service', 'tradate', 'tradate', $1, 'TAXDSH-2', 20000, 'active', '2020-12-31')`,
			f.citizen)
		exec(`INSERT INTO accounts (id, district_id, kind) VALUES ('fund:dash-food', 'tradate', 'fund'), ('fund:dash-service', 'tradate', 'fund'),
				('voucher:00000000-0000-0000-0000-00000000d601', 'tradate', 'voucher'), ('voucher:00000000-0000-0000-0000-00000000d602', 'tradate', 'voucher'),
				('booking:00000000-0000-0000-0000-00000000d701:voucher', 'tradate', 'booking_voucher')
			ON CONFLICT DO NOTHING`)
		exec(`INSERT INTO accounts (id, district_id, kind) VALUES ($1, 'tradate', 'merchant') ON CONFLICT DO NOTHING`, store.MerchantAccountID(f.merchant))
		if err != nil {
			return err
		}
		v1, v2 := "00000000-0000-0000-0000-00000000d601", "00000000-0000-0000-0000-00000000d602"
		b1 := "00000000-0000-0000-0000-00000000d701"
		moves := []struct {
			in store.TransferInput
			at time.Time
		}{
			{store.TransferInput{Key: "dash:fund-food", From: store.FundingAccountID("tradate"), To: "fund:dash-food", Amount: 100000, Kind: store.TransferFunding, FundID: "dash-food"}, at(1, 9).AddDate(0, -2, 0)},
			{store.TransferInput{Key: "dash:award-old", From: "fund:dash-food", To: store.VoucherAccountID(v1), Amount: 10000, Kind: store.TransferAward, FundID: "dash-food", VoucherID: v1}, at(1, 9).AddDate(0, -1, 0)},
			{store.TransferInput{Key: "dash:award-1", From: "fund:dash-food", To: store.VoucherAccountID(v1), Amount: 30000, Kind: store.TransferAward, FundID: "dash-food", VoucherID: v1}, at(3, 9)},
			{store.TransferInput{Key: "dash:redeem-1", From: store.VoucherAccountID(v1), To: store.MerchantAccountID(f.merchant), Amount: 5000, Kind: store.TransferRedemption, FundID: "dash-food", VoucherID: v1}, at(4, 11)},
			{store.TransferInput{Key: "dash:fund-service", From: store.FundingAccountID("tradate"), To: "fund:dash-service", Amount: 50000, Kind: store.TransferFunding, FundID: "dash-service"}, at(1, 9).AddDate(0, -2, 0)},
			{store.TransferInput{Key: "dash:award-2", From: "fund:dash-service", To: store.VoucherAccountID(v2), Amount: 20000, Kind: store.TransferAward, FundID: "dash-service", VoucherID: v2}, at(2, 11)},
			{store.TransferInput{Key: "dash:hold-1", From: store.VoucherAccountID(v2), To: store.BookingVoucherAccountID(b1), Amount: 8000, Kind: store.TransferHold, VoucherID: v2, BookingID: b1}, at(3, 11)},
			{store.TransferInput{Key: "dash:void-1", From: store.BookingVoucherAccountID(b1), To: store.VoucherAccountID(v2), Amount: 3000, Kind: store.TransferVoid, VoucherID: v2, BookingID: b1}, at(5, 11)},
		}
		for _, m := range moves {
			if _, _, err := store.Transfer(ctx, tx, m.in); err != nil {
				return err
			}
			exec(`UPDATE transfers SET created_at = $2 WHERE idempotency_key = $1`, m.in.Key, m.at)
		}
		exec(`INSERT INTO redemptions (id, voucher_id, merchant_id, amount_cents, request_hash, remaining_cents, transfer_id, created_at)
			SELECT '00000000-0000-0000-0000-00000000d801', $1, $2, 5000, 'h', 25000, id, $3 FROM transfers WHERE idempotency_key = 'dash:redeem-1'`,
			v1, f.merchant, at(4, 11))
		// Bookings: Tradate, paid by the service voucher, one session of
		// two delivered; Vedano Olona, online, the payment failed.
		exec(`INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id, service_name, category, unit,
				quantity, unit_price_cents, total_cents, voucher_id, voucher_cents, online_cents, payment_status, status, workflow_id, created_at)
			SELECT $1::uuid, 'tradate', 'tradate', $2, s.id, s.cooperative_id, s.name, 'youcare', 'hour', 2, 4000, 8000, $3::uuid, 8000, 0,
				'none', 'delivered', 'booking:' || $1, $4
			FROM services s WHERE s.district_id = 'tradate' ORDER BY s.id LIMIT 1`, b1, f.citizen, v2, at(3, 11))
		exec(`INSERT INTO bookings (id, district_id, municipality_id, citizen_id, service_id, cooperative_id, service_name, category, unit,
				quantity, unit_price_cents, total_cents, voucher_cents, online_cents, payment_status, status, workflow_id, created_at)
			SELECT '00000000-0000-0000-0000-00000000d702', 'tradate', 'vedano-olona', $1, s.id, s.cooperative_id, s.name, 'youcare', 'hour',
				1, 3000, 3000, 0, 3000, 'failed', 'cancelled', 'booking:d702', $2
			FROM services s WHERE s.district_id = 'tradate' ORDER BY s.id LIMIT 1`, f.citizen, at(4, 11))
		exec(`INSERT INTO booking_sessions (booking_id, seq, voucher_cents, online_cents, status, cooperative_id, delivered_at)
			SELECT $1, 1, 4000, 0, 'delivered', cooperative_id, $2 FROM bookings WHERE id = $1`, b1, at(6, 11))
		exec(`INSERT INTO booking_sessions (booking_id, seq, voucher_cents, online_cents, status) VALUES ($1, 2, 4000, 0, 'planned')`, b1)
		exec(`INSERT INTO incidents (key, district_id, municipality_id, kind, booking_id, amount_cents, created_at)
			VALUES ('dash:refund', 'tradate', 'tradate', 'refund_failed', $1, 2500, $2)`, b1, at(5, 12))
		return err
	})
	if err != nil {
		t.Fatalf("dashboard fixture: %v", err)
	}
}

// TestDashboardFigures computes every figure of the fixture's week for a
// supervisor (the district) and for Tradate's operator (row-level security
// and the municipality filter), and for another district's supervisor
// (nothing).
// dashWeek is the dashboard's filter of dashFixture's week, by day, as the
// district's supervisor reads it on its Sunday at noon.
func dashWeek() store.DashboardFilter {
	rome := calendar.Rome()
	return store.DashboardFilter{District: "tradate", From: time.Date(2020, 3, 2, 0, 0, 0, 0, rome),
		To: time.Date(2020, 3, 9, 0, 0, 0, 0, rome), Now: time.Date(2020, 3, 8, 12, 0, 0, 0, rome), Bucket: "day"}
}

func TestDashboardFigures(t *testing.T) {
	f := newFixture(t)
	dashFixture(t, f)
	ctx := context.Background()
	rome := calendar.Rome()
	var coop, coopName, merchantKind string
	if err := f.st.Pool.QueryRow(ctx, `SELECT s.cooperative_id, c.name FROM services s JOIN cooperatives c ON c.id = s.cooperative_id
			WHERE s.district_id = 'tradate' ORDER BY s.id LIMIT 1`).Scan(&coop, &coopName); err != nil {
		t.Fatal(err)
	}
	if err := f.st.Pool.QueryRow(ctx, `SELECT kind FROM merchants WHERE id = $1`, f.merchant).Scan(&merchantKind); err != nil {
		t.Fatal(err)
	}
	week := dashWeek()
	read := func(scope store.Scope, f2 store.DashboardFilter) store.DashboardFigures {
		t.Helper()
		d, err := f.st.API().Dashboard(ctx, scope, f2)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	oldest := time.Date(2020, 3, 7, 10, 0, 0, 0, rome)

	sup := read(store.Scope{Kind: "supervisor", District: "tradate"}, week)
	if want := []store.DashboardApplications{{"2020-03-02", "buoni-spesa", 3}, {"2020-03-03", "buoni-spesa", 2},
		{"2020-03-04", "altro-modulo", 1}, {"2020-03-04", "buoni-spesa", 1}}; !reflect.DeepEqual(sup.Applications, want) {
		t.Errorf("supervisor applications %+v, want %+v", sup.Applications, want)
	}
	if want := (store.DashboardDecisions{Opened: 4, Decided: 2, OnTime: 1, Late: 1, Pending: 2, Overdue: 1,
		MedianHours: 60, P90Hours: 88.8}); !closeDecisions(sup.Decisions, want) {
		t.Errorf("supervisor decisions %+v, want %+v", sup.Decisions, want)
	}
	if b := teamRow(sup.Backlog, "dash-team"); b == nil || b.Open != 1 || b.Claimed != 1 || b.Overdue != 1 ||
		b.TeamName != "Squadra cruscotto" || b.OldestDue == nil || !b.OldestDue.Equal(oldest) {
		t.Errorf("supervisor backlog of dash-team: %+v", b)
	}
	wantFunds := []store.DashboardFund{
		{ID: "dash-food", Name: "Spesa 2020", Kind: "food", Municipality: "tradate", MunicipalityName: "Tradate",
			BudgetCents: 100000, AwardedCents: 40000, RedeemedCents: 5000, AvailableCents: 60000, PeriodAwardedCents: 30000, PeriodSpentCents: 5000},
		{ID: "dash-service", Name: "Servizi 2020", Kind: "service", Municipality: "tradate", MunicipalityName: "Tradate",
			BudgetCents: 50000, AwardedCents: 20000, BookedCents: 5000, AvailableCents: 30000, PeriodAwardedCents: 20000, PeriodSpentCents: 5000},
	}
	if got := fundsOf(sup.Funds, "dash-"); !reflect.DeepEqual(got, wantFunds) {
		t.Errorf("supervisor funds\n got %+v\nwant %+v", got, wantFunds)
	}
	if want := []store.DashboardRedemptions{{merchantKind, 1, 5000}}; !reflect.DeepEqual(sup.Redemptions, want) {
		t.Errorf("supervisor redemptions %+v, want %+v", sup.Redemptions, want)
	}
	if want := []store.DashboardBookings{{coop, coopName, "youcare", 2, 1, 1, 11000, 8000}}; !reflect.DeepEqual(sup.Bookings, want) {
		t.Errorf("supervisor bookings %+v, want %+v", sup.Bookings, want)
	}
	if want := []store.DashboardFailures{{"payment_failed", 1, 3000}, {"payment_mismatch", 0, 0}, {"refund_failed", 1, 2500}}; !reflect.DeepEqual(sortFailures(sup.Failures), want) {
		t.Errorf("supervisor failures %+v, want %+v", sup.Failures, want)
	}

	// The supervisor narrowed to Vedano Olona.
	ved := week
	ved.Municipality = "vedano-olona"
	v := read(store.Scope{Kind: "supervisor", District: "tradate"}, ved)
	if want := []store.DashboardApplications{{"2020-03-03", "buoni-spesa", 2}}; !reflect.DeepEqual(v.Applications, want) {
		t.Errorf("Vedano Olona applications %+v, want %+v", v.Applications, want)
	}
	if len(fundsOf(v.Funds, "dash-")) != 0 || len(v.Redemptions) != 0 {
		t.Errorf("Vedano Olona shows Tradate's funds or redemptions: %+v %+v", v.Funds, v.Redemptions)
	}

	// Tradate's operator: their municipality only; row-level security
	// alone would hide the rest too (the filter says "all").
	opScope := store.Scope{Kind: "operator", District: "tradate", Municipality: "tradate"}
	for _, mun := range []string{"tradate", ""} {
		of := week
		of.Municipality = mun
		op := read(opScope, of)
		if want := []store.DashboardApplications{{"2020-03-02", "buoni-spesa", 3}, {"2020-03-04", "altro-modulo", 1},
			{"2020-03-04", "buoni-spesa", 1}}; !reflect.DeepEqual(op.Applications, want) {
			t.Errorf("operator (filter %q) applications %+v, want %+v", mun, op.Applications, want)
		}
		if want := (store.DashboardDecisions{Opened: 3, Decided: 2, OnTime: 1, Late: 1, Pending: 1, Overdue: 1,
			MedianHours: 60, P90Hours: 88.8}); !closeDecisions(op.Decisions, want) {
			t.Errorf("operator (filter %q) decisions %+v, want %+v", mun, op.Decisions, want)
		}
		if b := teamRow(op.Backlog, "dash-team"); b == nil || b.Open != 1 || b.Claimed != 0 || b.Overdue != 1 {
			t.Errorf("operator (filter %q) backlog of dash-team: %+v", mun, b)
		}
		if want := []store.DashboardBookings{{coop, coopName, "youcare", 1, 0, 1, 8000, 8000}}; !reflect.DeepEqual(op.Bookings, want) {
			t.Errorf("operator (filter %q) bookings %+v, want %+v", mun, op.Bookings, want)
		}
		// Incidents are the supervisors' (row-level security).
		if want := []store.DashboardFailures{{"payment_failed", 0, 0}, {"payment_mismatch", 0, 0}, {"refund_failed", 0, 0}}; !reflect.DeepEqual(sortFailures(op.Failures), want) {
			t.Errorf("operator (filter %q) failures %+v, want %+v", mun, op.Failures, want)
		}
	}

	// Week buckets: the same cases in the week of Monday 2 March.
	wk := week
	wk.Bucket = "week"
	if got := read(store.Scope{Kind: "supervisor", District: "tradate"}, wk).Applications; !reflect.DeepEqual(got,
		[]store.DashboardApplications{{"2020-03-02", "altro-modulo", 1}, {"2020-03-02", "buoni-spesa", 6}}) {
		t.Errorf("weekly applications %+v", got)
	}

	// The funds' table (/funds) counts the service vouchers' bookings too.
	list, err := f.st.API().Funds(ctx, store.Scope{Kind: "supervisor", District: "tradate"}, "tradate")
	if err != nil {
		t.Fatal(err)
	}
	for _, fv := range list {
		if want := map[string]int64{"dash-service": 5000, "dash-food": 0}; fv.ID == "dash-service" || fv.ID == "dash-food" {
			if fv.BookedCents != want[fv.ID] {
				t.Errorf("/funds: %s booked %d, want %d", fv.ID, fv.BookedCents, want[fv.ID])
			}
		}
	}

	// Another district's supervisor asking for Tradate sees nothing.
	other := read(store.Scope{Kind: "supervisor", District: "alta-padovana"}, week)
	if len(other.Applications) != 0 || other.Decisions.Opened != 0 || len(fundsOf(other.Funds, "dash-")) != 0 ||
		len(other.Bookings) != 0 || len(other.Redemptions) != 0 || teamRow(other.Backlog, "dash-team") != nil {
		t.Errorf("another district reads Tradate: %+v", other)
	}
}

func closeDecisions(a, b store.DashboardDecisions) bool {
	near := func(x, y float64) bool { return x-y < 0.01 && y-x < 0.01 }
	ok := near(a.MedianHours, b.MedianHours) && near(a.P90Hours, b.P90Hours)
	a.MedianHours, a.P90Hours, b.MedianHours, b.P90Hours = 0, 0, 0, 0
	return ok && a == b
}

func teamRow(rows []store.DashboardBacklog, team string) *store.DashboardBacklog {
	for i := range rows {
		if rows[i].Team == team {
			return &rows[i]
		}
	}
	return nil
}

func fundsOf(rows []store.DashboardFund, prefix string) []store.DashboardFund {
	var out []store.DashboardFund
	for _, r := range rows {
		if len(r.ID) >= len(prefix) && r.ID[:len(prefix)] == prefix {
			out = append(out, r)
		}
	}
	return out
}

func sortFailures(rows []store.DashboardFailures) []store.DashboardFailures {
	out := append([]store.DashboardFailures(nil), rows...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Kind < out[i].Kind {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestDashboardReadsAreIndexOnly plans the dashboard's reads of cases and
// tasks as each scope that reads the dashboard, with sequential and bitmap
// scans disabled, and expects index-only scans of the dashboard's indexes:
// an index-only scan needs every column the statement and the table's
// row-level security policies read, so a policy that reads one more column
// than the index holds turns the week's figures into reads of the whole
// table (migration 040: 1 s at 1,000,000 cases).
func TestDashboardReadsAreIndexOnly(t *testing.T) {
	_, st := testenv.Postgres(t)
	ctx := context.Background()
	week := dashWeek()
	want := map[string]map[string]string{ // statement -> table -> index
		"applications": {"cases": "cases_dashboard"},
		"decisions":    {"tasks": "tasks_dashboard"},
		"backlog":      {"tasks": "tasks_backlog"},
	}
	for _, scope := range []store.Scope{{Kind: "supervisor", District: "tradate"},
		{Kind: "operator", District: "tradate", Municipality: "tradate"}} {
		f := week
		if scope.Kind == "operator" {
			f.Municipality = scope.Municipality
		}
		plans, err := st.API().DashboardPlansForTest(ctx, scope, f)
		if err != nil {
			t.Fatal(err)
		}
		for name, tables := range want {
			var root []any
			if err := json.Unmarshal([]byte(plans[name]), &root); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			scans := map[string][]string{}
			var walk func(n any)
			walk = func(n any) {
				m, ok := n.(map[string]any)
				if !ok {
					return
				}
				if rel, ok := m["Relation Name"].(string); ok {
					idx, _ := m["Index Name"].(string)
					scans[rel] = append(scans[rel], fmt.Sprintf("%v %s", m["Node Type"], idx))
				}
				if p, ok := m["Plan"]; ok {
					walk(p)
				}
				if ps, ok := m["Plans"].([]any); ok {
					for _, p := range ps {
						walk(p)
					}
				}
			}
			for _, r := range root {
				walk(r)
			}
			for table, index := range tables {
				if got := scans[table]; len(got) != 1 || got[0] != "Index Only Scan "+index {
					t.Errorf("%s as %s reads %s with %v, want [Index Only Scan %s]", name, scope.Kind, table, got, index)
				}
			}
		}
	}
}

// Migration 040 goes down to 019's dashboard indexes and up again.
func TestDashboardIndexMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 40, `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		WHERE x.relname IN ('cases_dashboard', 'tasks_dashboard', 'tasks_backlog') AND a.attname = 'id')`,
		"the policies' id in the dashboard's indexes")
}
