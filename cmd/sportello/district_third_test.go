package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/apicontract"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

// TestThirdDistrictNeedsNoCode (issue 15, part 3): a district no code
// names, testdata/third-district.json, applied with `sportello district
// apply` next to the seeded Tradate and Bene Comune, is what the portal
// shows on its host and to its staff: its name in both languages, logo,
// colours, contacts, and its municipalities' open calls; the other
// districts show none of it.
func TestThirdDistrictNeedsNoCode(t *testing.T) {
	ctx := context.Background()
	dbURL, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cfg, err := loadConfig(func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runDistrict(ctx, cfg, &out, []string{"apply", "--demo", filepath.Join("testdata", "third-district.json")}); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "district tre-colli: created ") {
		t.Fatalf("apply:\n%s", out.String())
	}

	srv := httptest.NewServer(apicontract.For(t, api.New(api.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(host, path string, status int) string {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != status {
			t.Fatalf("GET %s (host %q): %d, want %d\n%s", path, host, res.StatusCode, status, body)
		}
		return string(body)
	}
	get := func(host, path string) string {
		t.Helper()
		return send(host, path, http.StatusOK)
	}
	expect := func(what, body string, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if !strings.Contains(body, s) {
				t.Errorf("%s does not show %q", what, s)
			}
		}
	}
	expectNot := func(what, body string, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q", what, s)
			}
		}
	}
	own := []string{"Ambito dei Tre Colli", "background-color: #7a2e8c", "0123 456789", "ufficio.piano@trecolli.example.org",
		`<circle cx="24" cy="22" r="12"`, "dal lunedì al giovedì 9:00–12:00"}

	// A visitor on its host.
	home := get("trecolli.localhost", "/")
	expect("the home page on trecolli.localhost", home, own...)
	expectNot("the home page on trecolli.localhost", home, "Ambito territoriale di Tradate", "Welfare Bene Comune")
	calls := get("trecolli.localhost", "/open-calls")
	expect("the open calls on trecolli.localhost", calls, "Colle Alto", "Colle Basso", "Buoni spesa - Colle Alto")
	expectNot("the open calls on trecolli.localhost", calls, "Tradate", "Piazzola sul Brenta")
	// Its public information pages, from its file's contacts: the privacy
	// notice, the accessibility statement in AgID's form, the contacts with
	// the call-centre hours and its Social Point, the credentials.
	expect("its privacy notice", get("trecolli.localhost", "/informazioni/privacy"), "Ambito dei Tre Colli",
		"Titolare del trattamento", "ufficio.piano@trecolli.example.org", "dpo@trecolli.example.org")
	expect("its accessibility statement", get("trecolli.localhost", "/informazioni/accessibilita"), "Ambito dei Tre Colli",
		"Stato di conformità", "Meccanismo di feedback e recapiti", "Procedura di attuazione")
	expect("its contacts", get("trecolli.localhost", "/informazioni/contatti"), "0123 456789", "dal lunedì al giovedì 9:00–12:00",
		"Piazza del Mercato 1, Colle Alto", "Social Point Tessitura di Colle Alto")
	expect("its credentials page", get("trecolli.localhost", "/informazioni/credenziali"), `href="/attiva"`)
	expect("its legal notes", get("trecolli.localhost", "/informazioni/note-legali"), "Ambito dei Tre Colli")
	// The other districts show none of it.
	for _, host := range []string{"", "benecomune.localhost"} {
		expectNot("the home page on "+host, get(host, "/"), "Tre Colli", "#7a2e8c")
		expectNot("the open calls on "+host, get(host, "/open-calls"), "Colle Alto", "Colle Basso")
	}

	// Its supervisor, wherever they come from, in both languages.
	req, err := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"username": {"supervisore.trecolli"},
		"password": {"demo"}, "next": {"/"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as supervisore.trecolli: %d", res.StatusCode)
	}
	expect("the supervisor's home page", get("", "/"), own...)
	expect("the supervisor's funds", get("", "/funds"), "Colle Alto", "Colle Basso")
	send("", "/lang/en?next=/", http.StatusSeeOther)
	expect("the supervisor's home page in English", get("", "/"), "Three Hills district", "Monday to Thursday 9:00–12:00")
	expect("its accessibility statement in English", get("", "/informazioni/accessibilita"), "Three Hills district",
		"Compliance status", "Enforcement procedure")

	// Its company joined with the file: the welfare manager reads the plan
	// (an empty account: money comes only from top-ups), the point it hosts
	// is public; its Commerce District's manager runs campaigns.
	token := func(user string) string {
		t.Helper()
		res, err := http.Post(srv.URL+"/api/v1/session", "application/json",
			strings.NewReader(`{"username": "`+user+`", "password": "demo"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var lr struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(res.Body).Decode(&lr); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("login %s: %d %v", user, res.StatusCode, err)
		}
		return lr.Token
	}
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/company", nil)
	req.Header.Set("Authorization", "Bearer "+token("welfare.tessitura"))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var o store.CompanyOverview
	err = json.NewDecoder(res.Body).Decode(&o)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || o.Company.Name != "Tessitura di Colle Alto S.r.l." || o.Company.District != "tre-colli" ||
		o.Plan.AnnualCreditCents != 400_00 || o.BalanceCents != 0 {
		t.Errorf("the company's plan: %d %+v %v", res.StatusCode, o, err)
	}
	expect("the Social Points of Tre Colli", get("", "/api/v1/social-points?district=tre-colli"), "Social Point Tessitura di Colle Alto",
		"Tessitura di Colle Alto S.r.l.")
	jar2, _ := cookiejar.New(nil)
	client.Jar = jar2
	req, _ = http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"username": {"commercio.trecolli"},
		"password": {"demo"}, "next": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err = client.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as commercio.trecolli: %v %v", res, err)
	}
	res.Body.Close()
	expect("the campaigns of Tre Colli's Commerce District", get("", "/manage/campaigns"), "Ambito dei Tre Colli")
}
