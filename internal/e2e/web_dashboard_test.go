package e2e

import (
	"context"
	"strings"
	"testing"

	"sportello/internal/browsertest"
)

// TestWebDashboard: the supervisor opens "Cruscotto" from the menu and
// reads this week's figures: every figure with its table (caption, headers)
// and a chart drawn by Chart.js from the portal's own assets beside it;
// wrong dates are told at the field (422); the page in English; Tradate's
// operator sees their municipality only. axe finds no WCAG 2.1 A/AA
// violation on any of them.
func TestWebDashboard(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var citizen int64
	var fund string
	if err := s.st.Pool.QueryRow(ctx, `SELECT u.id, f.id FROM users u, funds f WHERE u.username = 'cittadino.tradate'
			AND f.municipality_id = 'tradate' AND f.form_id = 'buoni-spesa' ORDER BY f.opens_at DESC LIMIT 1`).Scan(&citizen, &fund); err != nil {
		t.Fatal(err)
	}
	// This week: three applications in Tradate (one reviewed and one
	// overdue) and one in Vedano Olona.
	if _, err := s.st.Pool.Exec(ctx, `WITH c AS (
			INSERT INTO cases (id, district_id, municipality_id, applicant_id, tax_code, form_id, form_version, fund_id,
				data, status, workflow_id, request_hash, created_at)
			SELECT 'DSHW-' || i, 'tradate', CASE WHEN i = 4 THEN 'vedano-olona' ELSE 'tradate' END, $1, 'DSHW' || i,
				'buoni-spesa', 1, $2, '{}', 'approved', 'case:DSHW-' || i, 'h', now() - interval '1 day' * i
			FROM generate_series(1, 4) i RETURNING id, municipality_id, created_at)
		INSERT INTO tasks (id, case_id, district_id, municipality_id, kind, status, due_at, created_at, completed_at)
		SELECT gen_random_uuid(), id, 'tradate', municipality_id, 'review',
			CASE WHEN id = 'DSHW-1' THEN 'done' ELSE 'open' END, created_at + interval '1 day', created_at,
			CASE WHEN id = 'DSHW-1' THEN created_at + interval '5 hours' END
		FROM c`, citizen, fund); err != nil {
		t.Fatal(err)
	}

	p := loggedIn(t, s.srv.URL, "supervisore", "supervisore")
	p.Follow("Cruscotto")
	assertPath(t, p, "/dashboard")
	assertPage(t, p, "Cruscotto", "Ultimi 7 giorni", "Domande per modulo", "Domande per giorno e modulo",
		"Tempo alla prima decisione", "Lavoro arretrato per squadra", "Consumo dei fondi", "Fondi attivi nel periodo, in euro",
		"Spese nei negozi per tipo di esercizio", "Pagamenti e rimborsi non riusciti", "Tutti i comuni dell'ambito")
	chartsDrawn(t, p)
	if n := p.Count("table.dashboard-table caption"); n != p.Count("canvas[data-drawn]") || n < 4 {
		t.Fatalf("%d tables with a caption and %d charts drawn", n, p.Count("canvas[data-drawn]"))
	}
	if p.Count("table.dashboard-table th[scope=col]") == 0 || p.Count("table.dashboard-table th[scope=row]") == 0 {
		t.Fatal("the tables have no column or row headers")
	}
	p.Axe()
	if !strings.Contains(p.Attr("a[download]", "href"), "/dashboard/export.csv?") {
		t.Fatalf("CSV link %q", p.Attr("a[download]", "href"))
	}

	// Dates the wrong way round: the error at the field and in the summary.
	if st := p.NavigateStatus("/dashboard?period=custom&from=2026-03-10&to=2026-03-01"); st != 422 {
		t.Fatalf("status %d for dates the wrong way round", st)
	}
	assertText(t, p, "la data finale viene prima di quella iniziale")
	if p.Attr("#to", "aria-invalid") != "true" {
		t.Fatal("the end date is not marked aria-invalid")
	}
	p.Axe()

	// In English.
	p.Navigate("/lang/en?next=/dashboard")
	assertPage(t, p, "Dashboard", "Applications per form", "Time to first decision", "Backlog per team", "Budget burn per fund",
		"Redemptions per merchant type", "Bookings and deliveries per cooperative and category", "Failed payments and refunds")
	chartsDrawn(t, p)
	p.Axe()
	p.Screenshot("dashboard-en")

	// Tradate's operator: their municipality, no choice of another.
	op := loggedIn(t, s.srv.URL, "operatore", "operatore.tradate")
	op.Follow("Cruscotto")
	assertPage(t, op, "Cruscotto", "Comune: Tradate")
	if op.Has("select#municipality") {
		t.Fatal("the operator can choose a municipality")
	}
	chartsDrawn(t, op)
	op.Axe()
	if st := op.NavigateStatus("/dashboard?municipality=vedano-olona"); st != 422 {
		t.Fatalf("status %d for another municipality", st)
	}
	assertText(t, op, "puoi vedere solo il tuo comune")
	op.Axe()
}

// chartsDrawn waits for the charts of the page and checks each is a
// canvas Chart.js drew on (it sizes the canvas); no script error or CSP
// refusal on the way.
func chartsDrawn(t *testing.T, p *browsertest.Page) {
	t.Helper()
	p.WaitVisible("canvas[data-drawn]")
	var sized int
	p.Eval(`Array.from(document.querySelectorAll('canvas[data-drawn]')).filter(c => c.width > 0 && c.height > 0 && window.Chart && window.Chart.getChart(c)).length`, &sized)
	if sized == 0 || sized != p.Count("figure.dashboard-chart") {
		t.Fatalf("%d of %d charts drawn", sized, p.Count("figure.dashboard-chart"))
	}
	for _, line := range p.Console() {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(strings.ToLower(line), "uncaught") {
			t.Fatalf("console: %s", line)
		}
	}
}
