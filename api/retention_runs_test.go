package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/app/privacy"
)

// TestRetentionRunsAPIAndPage: GET /api/v1/privacy/retention-runs and the
// portal's /privacy/retention show the configured period and the recorded
// runs, newest first, to supervisors of either district (the run is the
// system's); before any run the list is empty, not null; other roles are
// refused, anonymous callers asked to sign in.
func TestRetentionRunsAPIAndPage(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.RetentionDays = 730 })
	ctx := context.Background()

	r := e.do("GET", "/api/v1/privacy/retention-runs", "supervisore", nil)
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"items":[]`) || !strings.Contains(string(r.body), `"retention_days":730`) {
		t.Errorf("before any run: %s", r.body)
	}

	// Two recorded runs: nothing due a day ago, then one citizen now.
	cutoff := time.Now().Add(-730 * 24 * time.Hour).UTC().Truncate(time.Second)
	for i, q := range []string{
		`INSERT INTO retention_runs (run_key, started_at, finished_at, cutoff, retention_days, people, cases, kept, more)
			VALUES ('run-a', now() - interval '1 day', now() - interval '1 day', $1, 730, 0, 0, 0, false)`,
		`INSERT INTO retention_runs (run_key, started_at, finished_at, cutoff, retention_days, people, cases, kept, more)
			VALUES ('run-b', now(), now(), $1, 730, 1, 2, 3, true)`,
	} {
		if _, err := e.st.Pool.Exec(ctx, q, cutoff); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	for _, user := range []string{"supervisore", "supervisore.padova"} {
		var rep privacy.RetentionReport
		r := e.do("GET", "/api/v1/privacy/retention-runs", user, nil)
		expectStatus(t, r, http.StatusOK)
		r.json(t, &rep)
		if rep.RetentionDays != 730 || len(rep.Items) != 2 {
			t.Fatalf("%s: %+v", user, rep)
		}
		got := rep.Items[0]
		if got.RunKey != "run-b" || !got.Cutoff.Equal(cutoff) || got.People != 1 || got.Cases != 2 || got.Kept != 3 ||
			!got.More || rep.Items[1].RunKey != "run-a" || got.ID == 0 || got.FinishedAt.Before(got.StartedAt) {
			t.Errorf("%s: newest run %+v, then %+v", user, got, rep.Items[1])
		}
	}
	for _, user := range []string{"operatore.tradate", "cittadino.tradate", "coop.baobab", "esercente.tradate"} {
		expectStatus(t, e.do("GET", "/api/v1/privacy/retention-runs", user, nil), http.StatusForbidden)
	}
	expectStatus(t, e.do("GET", "/api/v1/privacy/retention-runs", "", nil), http.StatusUnauthorized)

	// The page, in Italian and English, linked from the supervisor's menu.
	b := e.browser()
	b.login("supervisore")
	home := b.get("/")
	if !strings.Contains(home.body, `href="/privacy/retention"`) {
		t.Error("the supervisor's menu does not link the retention page")
	}
	p := b.get("/privacy/retention")
	expectPage(t, p, http.StatusOK, "Conservazione e pseudonimizzazione dei dati", "2 anni", "Esecuzioni registrate",
		`data-run=`, `<td class="text-end" data-col="people">1</td>`, "Sì, alla prossima esecuzione")
	b.get("/lang/en?next=/privacy/retention")
	p = b.get("/privacy/retention")
	expectPage(t, p, http.StatusOK, "Data retention and pseudonymisation", "2 years", "Recorded runs", "Yes, at the next run")

	op := e.browser()
	op.login("operatore.tradate")
	if p := op.get("/privacy/retention"); p.status != http.StatusForbidden {
		t.Errorf("an operator's retention page: %d, want 403", p.status)
	}
	if strings.Contains(op.get("/").body, `href="/privacy/retention"`) {
		t.Error("an operator's menu links the retention page")
	}
}
