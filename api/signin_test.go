package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/auth"
	"sportello/internal/oidcrp"
	"sportello/internal/seed"
	"sportello/internal/testidp"
)

// The JSON doors of the password reset: 202 alike for an unknown and a
// real account (only the real one gets an e-mail, queued), the token works once
// and ends the account's sessions, bad input is a 422 with its field.
func TestPasswordResetAPI(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.PortalURL = "http://portal.test" })
	old := e.token("cittadino.tradate")

	expectStatus(t, e.do("POST", "/api/v1/password-reset-requests", "", map[string]string{"username": "nessuno.qui"}), http.StatusAccepted)
	expectStatus(t, e.do("POST", "/api/v1/password-reset-requests", "", map[string]string{"username": "cittadino.tradate"}), http.StatusAccepted)
	r := e.do("POST", "/api/v1/password-reset-requests", "", map[string]string{"username": ""})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.errorBody(t); len(d.Fields) != 1 || d.Fields[0].Pointer != "/username" {
		t.Fatalf("empty username: %+v", d)
	}
	// The request only queues the e-mail: the API sent nothing; the
	// worker (no mailer here: the outbox keeps it) made one link, for Maria
	// alone. The e-mail over SMTP: internal/e2e TestWebPasswordResetByEmail.
	if msgs := e.mail.to("maria.rossi@example.org"); len(msgs) != 0 {
		t.Fatalf("the request sent %d e-mails itself", len(msgs))
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.count(`SELECT count(*) FROM notifications WHERE kind = 'password_reset'`) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE kind = 'password_reset' AND recipient = 'maria.rossi@example.org'`); n != 1 {
		t.Fatalf("%d reset e-mails queued for Maria", n)
	}
	if n := e.count(`SELECT count(*) FROM password_resets`); n != 1 {
		t.Fatalf("%d reset links made", n)
	}
	// A link of our own (the one queued is known only to its e-mail).
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.API().CreatePasswordReset(context.Background(), "cittadino.tradate", hash, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}

	r = e.do("POST", "/api/v1/password-resets", "", map[string]string{"token": token + "x", "password": "girasole-di-tradate-7"})
	expectStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.errorBody(t); len(d.Fields) != 1 || d.Fields[0].Pointer != "/token" || d.Fields[0].Code != "invalid_link" {
		t.Fatalf("wrong token: %+v", d)
	}
	expectStatus(t, e.do("POST", "/api/v1/password-resets", "", map[string]string{"token": token, "password": "girasole-di-tradate-7"}), http.StatusOK)
	expectStatus(t, e.do("GET", "/api/v1/me", "", nil, hdr{"Authorization": "Bearer " + old}), http.StatusUnauthorized)
	expectStatus(t, e.do("POST", "/api/v1/session", "", map[string]string{"username": "cittadino.tradate", "password": "girasole-di-tradate-7"}), http.StatusOK)
	expectStatus(t, e.do("POST", "/api/v1/password-resets", "", map[string]string{"token": token, "password": "un-altra-password-2"}), http.StatusUnprocessableEntity)
}

// The login page: without a provider no SPID/CIE button, outside demo mode
// no demo accounts; with both, both. The sign-in's doors answer a page,
// never a 500: off (404), a tampered, unknown or missing state (400).
func TestSignInPages(t *testing.T) {
	plain := newEnv(t)
	r := plain.do("GET", "/login", "", nil)
	expectStatus(t, r, http.StatusOK)
	if body := string(r.body); strings.Contains(body, "/login/spid") || strings.Contains(body, "demo-title") ||
		!strings.Contains(body, `href="/attiva"`) || !strings.Contains(body, `href="/password/forgot"`) {
		t.Fatalf("login page without provider, not in demo mode:\n%s", body)
	}
	if !strings.Contains(string(r.body), `href="/login"`) || strings.Contains(string(r.body), "next=%2Flogin") {
		t.Fatal("the header's Accedi on /login points back at /login?next=/login")
	}
	for _, path := range []string{"/login/spid", "/login/spid/callback?state=x&code=y"} {
		expectStatus(t, plain.do("GET", path, "", nil), http.StatusNotFound)
	}

	var idp *testidp.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idp.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	idp, err = testidp.New(testidp.Options{Issuer: srv.URL, ClientID: "c", ClientSecret: "s",
		RedirectURLs: []string{"http://portal.test/login/spid/callback"}, Citizens: testidp.DemoCitizens()})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := oidcrp.New(oidcrp.Config{Issuer: srv.URL, ClientID: "c", ClientSecret: "s",
		RedirectURL: "http://portal.test/login/spid/callback"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(d *api.Deps) { d.IdP, d.Demo = rp, true })
	r = e.do("GET", "/login?next=%2Fme", "", nil)
	if body := string(r.body); !strings.Contains(body, `href="/login/spid?next=%2fme"`) && !strings.Contains(body, `href="/login/spid?next=%2Fme"`) {
		t.Fatalf("no SPID/CIE button:\n%s", body)
	}
	for _, u := range seed.DemoUsers() {
		if !strings.Contains(string(r.body), "<code>"+u.Username+"</code>") {
			t.Errorf("the demo hint lacks %s", u.Username)
		}
	}
	// The start sends the browser to the provider's page.
	r = e.do("GET", "/login/spid", "", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "Identity provider di prova") {
		t.Fatalf("start: %d\n%s", r.status, r.body)
	}
	for _, path := range []string{"/login/spid/callback?state=tampered&code=abc", "/login/spid/callback?code=abc",
		"/login/spid/callback?state=x&error=access_denied", "/login/spid/callback"} {
		r := e.do("GET", path, "", nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Ricomincia dalla pagina di accesso") {
			t.Errorf("%s: %d\n%s", path, r.status, r.body)
		}
	}
}
