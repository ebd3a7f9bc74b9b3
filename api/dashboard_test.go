package api_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"sportello/internal/app/dashboard"
)

// TestDashboardJSONAndCSV: GET /api/v1/dashboard gives the figures of the
// period for the supervisor's district, the operator's municipality
// whatever they ask, bad filters are 422 with a message per parameter,
// and the CSV export carries the same figures with the same filters.
func TestDashboardJSONAndCSV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Yesterday: two applications in Tradate, one in Vedano Olona, with
	// other forms' funds' ids as they are (the figures only count).
	if _, err := e.st.Pool.Exec(ctx, `INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id,
			form_version, fund_id, data, status, workflow_id, request_hash, created_at)
		SELECT 'DSHA-' || i, 'tradate', CASE WHEN i = 3 THEN 'vedano-olona' ELSE 'tradate' END,
			(SELECT id FROM users WHERE username = 'cittadino.tradate'), 'DSHA' || i, 'buoni-spesa', 1,
			(SELECT id FROM funds WHERE municipality_id = 'tradate' AND form_id = 'buoni-spesa' ORDER BY opens_at DESC LIMIT 1),
			'{}', 'rejected', 'case:DSHA-' || i, 'h', now() - interval '1 day'
		FROM generate_series(1, 3) i`); err != nil {
		t.Fatal(err)
	}
	count := func(d dashboard.Dashboard) int64 {
		var n int64
		for _, a := range d.Applications {
			n += a.Count
		}
		return n
	}

	r := e.do("GET", "/api/v1/dashboard", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var sup dashboard.Dashboard
	r.json(t, &sup)
	if sup.District != "tradate" || sup.Municipality != "" || sup.Days != 7 || sup.Bucket != "day" || count(sup) < 3 {
		t.Fatalf("supervisor's week: %+v", sup)
	}
	if len(sup.Funds) == 0 || len(sup.Failures) != 3 {
		t.Errorf("supervisor's funds %d, failure kinds %d", len(sup.Funds), len(sup.Failures))
	}

	r = e.do("GET", "/api/v1/dashboard?municipality=vedano-olona&period=month", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	var ved dashboard.Dashboard
	r.json(t, &ved)
	if ved.Municipality != "vedano-olona" || ved.Days != 30 || count(ved) != countIn(t, e, "vedano-olona", 30) || count(ved) < 1 {
		t.Fatalf("Vedano Olona's month: %+v", ved)
	}
	for _, f := range ved.Funds {
		if f.Municipality != "vedano-olona" {
			t.Errorf("Vedano Olona's dashboard shows fund %s of %s", f.ID, f.Municipality)
		}
	}

	// The operator reads Tradate, asked or not; another municipality is 422.
	r = e.do("GET", "/api/v1/dashboard", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var op dashboard.Dashboard
	r.json(t, &op)
	if op.Municipality != "tradate" || count(op) != countIn(t, e, "tradate", 7) || count(op) < 2 {
		t.Fatalf("operator's week: %d applications, %+v", count(op), op)
	}
	for _, f := range op.Funds {
		if f.Municipality != "tradate" {
			t.Errorf("the operator sees fund %s of %s", f.ID, f.Municipality)
		}
	}

	for _, tc := range []struct {
		user, query, param, code string
	}{
		{"operatore.tradate", "municipality=vedano-olona", "municipality", "forbidden"},
		{"supervisore", "municipality=limena", "municipality", "invalid"},
		{"supervisore", "period=year", "period", "invalid"},
		{"supervisore", "from=2026-13-01", "from", "invalid"},
		{"supervisore", "from=2026-03-10&to=2026-03-01", "to", "before_from"},
		{"supervisore", "from=2024-01-01&to=2026-01-01", "from", "too_long"},
	} {
		r := e.do("GET", "/api/v1/dashboard?"+tc.query, tc.user, nil)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		body := r.errorBody(t)
		if len(body.Fields) != 1 || body.Fields[0].Parameter != tc.param || body.Fields[0].Code != tc.code || body.Fields[0].Message == "" {
			t.Errorf("%s ?%s: %+v, want one problem of %s (%s)", tc.user, tc.query, body, tc.param, tc.code)
		}
		if r := e.do("GET", "/api/v1/dashboard.csv?"+tc.query, tc.user, nil); r.status != http.StatusUnprocessableEntity {
			t.Errorf("CSV %s ?%s: %d", tc.user, tc.query, r.status)
		}
	}
	expectStatus(t, e.do("GET", "/api/v1/dashboard", "cittadino.tradate", nil), http.StatusForbidden)

	// The CSV: the same filters, the same figures.
	r = e.do("GET", "/api/v1/dashboard.csv", "operatore.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="dashboard-tradate-`+op.From+`-`+op.To+`.csv"` {
		t.Errorf("content disposition %q", cd)
	}
	cr := csv.NewReader(strings.NewReader(string(r.body)))
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, r.body)
	}
	// Every row names its figure; a figure's first row is its header.
	sections := map[string][][]string{}
	for _, rec := range records {
		sections[rec[0]] = append(sections[rec[0]], rec[1:])
	}
	if f := sections["filter"]; len(f) != 2 || strings.Join(f[1], ",") != "tradate,tradate,"+op.From+","+op.To {
		t.Errorf("CSV filter section %v", f)
	}
	var csvApps int64
	for _, rec := range sections["applications"][1:] {
		var n int64
		for _, ch := range rec[2] {
			n = n*10 + int64(ch-'0')
		}
		csvApps += n
	}
	if csvApps != count(op) || len(sections["funds"])-1 != len(op.Funds) || len(sections["failures"]) != 4 {
		t.Errorf("CSV: %d applications (JSON %d), %d funds (JSON %d), sections %v", csvApps, count(op),
			len(sections["funds"])-1, len(op.Funds), sections)
	}
	for _, name := range []string{"decisions", "backlog", "redemptions", "bookings"} {
		if len(sections[name]) == 0 {
			t.Errorf("CSV has no %s section", name)
		}
	}
}

// countIn counts the cases of a municipality filed in the last days (the
// dashboard's week: today and the days before, Rome time), as the API's
// figures should.
func countIn(t *testing.T, e *env, municipality string, days int) int64 {
	t.Helper()
	var n int64
	if err := e.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cases WHERE municipality_id = $1
			AND created_at >= (date_trunc('day', now() AT TIME ZONE 'Europe/Rome') - interval '1 day' * ($2 - 1)) AT TIME ZONE 'Europe/Rome'`,
		municipality, days).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
