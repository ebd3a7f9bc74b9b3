package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"sportello/api"
	"sportello/api/web"
	"sportello/internal/browsertest"
	"sportello/internal/mailcatcher"
	"sportello/internal/notify"
	"sportello/internal/oidcrp"
	"sportello/internal/seed"
	"sportello/internal/testenv"
	"sportello/internal/testidp"
	"sportello/worker"
)

// newSignInStack is a stack whose portal signs citizens in with the test
// identity provider (SPID/CIE style) and sends its account e-mails (the
// password reset) to a real mail catcher; the portal runs in demo mode.
func newSignInStack(t *testing.T) (*stack, *mailInbox) {
	t.Helper()
	inbox, smtp := startCatcher(t)
	mailer, err := notify.NewMailer(smtp)
	if err != nil {
		t.Fatal(err)
	}

	_, st := testenv.Postgres(t)
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	workerMail, err := worker.NewMailer(smtp)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, st: st, tc: testenv.Temporal(t), taskQueue: testenv.TaskQueue(t), mailer: workerMail}
	// The portal's and the provider's addresses are known once they
	// listen; each names the other.
	var portal, provider http.Handler
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { portal.ServeHTTP(w, r) }))
	idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { provider.ServeHTTP(w, r) }))
	t.Cleanup(func() {
		s.srv.Close()
		idpSrv.Close()
		s.stopWorker()
	})
	// The worker e-mails the reset links (issue 16: the request queues them).
	s.portalURL = s.srv.URL
	s.startWorker()
	redirect := s.srv.URL + web.SignInCallbackPath
	idp, err := testidp.New(testidp.Options{Issuer: idpSrv.URL, ClientID: "sportello-e2e", ClientSecret: "e2e-secret",
		RedirectURLs: []string{redirect}, Citizens: testidp.DemoCitizens()})
	if err != nil {
		t.Fatal(err)
	}
	provider = idp
	rp, err := oidcrp.New(oidcrp.Config{Issuer: idpSrv.URL, ClientID: "sportello-e2e", ClientSecret: "e2e-secret",
		RedirectURL: redirect, ACR: testidp.SpidL2})
	if err != nil {
		t.Fatal(err)
	}
	deps := s.apiDeps()
	deps.IdP, deps.AccountMailer, deps.PortalURL, deps.Demo = rp, mailer, s.srv.URL, true
	portal = api.New(deps)
	return s, inbox
}

// signInAt goes through the test identity provider's page as taxCode at
// level acr (the browser is on that page).
func signInAt(t *testing.T, p *browsertest.Page, taxCode, acr string) {
	t.Helper()
	if !strings.Contains(p.Text("h1"), "Identity provider di prova") && !strings.Contains(p.Text("h1"), "Test identity provider") {
		t.Fatalf("not on the test identity provider: %s\n%s", p.URL(), p.BodyText())
	}
	p.FillByName("citizen", taxCode)
	p.FillByName("acr", acr)
	p.ClickAndWait(`button.enter`)
}

// In the browser: the login page explains how to get credentials, links
// account activation and the reset, lists every demo account (demo mode);
// from the home page a resident with no account signs in with SPID/CIE at
// the test identity provider, gets an account on the spot and finds the
// level of assurance in the personal area; a person outside the registry
// is told why and whom to contact. axe checks every page in both languages.
func TestWebSignInWithSPID(t *testing.T) {
	s, _ := newSignInStack(t)
	luca := seed.Residents()[2]

	p := browsertest.NewPage(t, s.srv.URL, "spid")
	p.Navigate("/")
	p.FollowIn("header", "Accedi")
	assertPath(t, p, "/login?next=%2F")
	assertPage(t, p, "Accedi", "Entra con SPID/CIE", "Come ottenere le credenziali", "Password dimenticata?")
	// On /login the header's "Accedi" is /login itself, not /login?next=/login.
	p.Navigate("/login")
	if href := p.Attr(`header a.btn[href^="/login"]`, "href"); href != "/login" {
		t.Errorf("the header's Accedi on /login points to %q", href)
	}
	if p.Count(`a[href="/attiva"]`) != 1 || p.Count(`a[href="/password/forgot"]`) != 1 {
		t.Errorf("the login page does not link activation and the reset")
	}
	if got, want := p.Count(`#demo-title + ul li`), len(seed.DemoUsers()); got != want {
		t.Errorf("the demo hint lists %d accounts, the seed has %d", got, want)
	}
	p.Navigate("/lang/en?next=/login")
	assertPage(t, p, "Log in", "Sign in with SPID/CIE", "How to get credentials")
	p.Navigate("/lang/it?next=/login")

	// Luca Colombo is in Tradate's registry and has no account yet.
	p.Follow("Entra con SPID/CIE")
	if !strings.HasPrefix(p.URL(), strings.TrimSuffix(p.BaseURL, "/")) {
		p.Axe()
	}
	signInAt(t, p, luca.TaxCode(), testidp.SpidL2)
	assertPath(t, p, "/")
	assertText(t, p, "Benvenuto, Luca Colombo")
	p.Navigate("/me")
	assertPage(t, p, "", "Il tuo accesso")
	if got := p.Text("#signin-loa"); !strings.Contains(got, "SPID/CIE, livello di sicurezza 2") || !strings.Contains(got, testidp.SpidL2) {
		t.Fatalf("personal area: %q", got)
	}
	p.Navigate("/lang/en?next=/me")
	p.Axe()
	if got := p.Text("#signin-loa"); !strings.Contains(got, "level of assurance 2") {
		t.Fatalf("personal area (en): %q", got)
	}
	var enrolled int
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE tax_code = $1 AND role = 'citizen'`,
		luca.TaxCode()).Scan(&enrolled); err != nil || enrolled != 1 {
		t.Fatalf("Luca's account: %d %v", enrolled, err)
	}

	// Carla Neri lives in no municipality served here: a page says why, in
	// both languages.
	out := browsertest.NewPage(t, s.srv.URL, "outsider")
	for _, lang := range []struct{ code, title, contact string }{
		{"it", "Non risulti residente", "ufficio anagrafe del tuo Comune"},
		{"en", "You are not listed as a resident", "registry office of your municipality"},
	} {
		out.Navigate("/lang/" + lang.code + "?next=/login")
		out.ClickAndWait(`a[href^="/login/spid"]`)
		signInAt(t, out, testidp.Outsider().TaxCode, testidp.SpidL2)
		if out.Status() != http.StatusForbidden {
			t.Errorf("outsider (%s): status %d", lang.code, out.Status())
		}
		assertPage(t, out, lang.title, lang.contact)
		if out.Count(`a[href="/social-points"]`) == 0 {
			t.Errorf("outsider (%s): no link to the Social Points", lang.code)
		}
	}
	if out.Count(`form[action="/logout"]`) != 0 {
		t.Fatal("the outsider is logged in")
	}
}

var resetURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/password/reset\?token=[A-Za-z0-9_%-]+`)

// In the browser: Maria forgets her password, asks a link (the answer is
// the same as for a username nobody has), gets it by e-mail through the
// mail catcher, chooses a new password (her other session ends), logs in
// with it; the link does not work twice. axe on every page, both languages.
func TestWebPasswordResetByEmail(t *testing.T) {
	s, inbox := newSignInStack(t)
	other := loggedIn(t, s.srv.URL, "maria-elsewhere", "cittadino.tradate")

	p := browsertest.NewPage(t, s.srv.URL, "forgot")
	p.Navigate("/login")
	p.Follow("Password dimenticata?")
	assertPage(t, p, "Password dimenticata", "30 minuti")
	p.Navigate("/lang/en?next=/password/forgot")
	assertPage(t, p, "Forgotten password", "30 minutes")
	p.Navigate("/lang/it?next=/password/forgot")

	// The requests only queue the e-mail: with the worker stopped, both
	// answer and no SMTP conversation has taken place; the worker, started
	// again, delivers the link.
	s.stopWorker()
	p.Fill("Nome utente", "nessuno.davvero")
	p.Submit("Invia il collegamento")
	assertPath(t, p, "/login")
	unknown := p.Text(".alert")
	p.Follow("Password dimenticata?")
	p.Fill("Nome utente", "cittadino.tradate")
	p.Submit("Invia il collegamento")
	assertPath(t, p, "/login")
	if known := p.Text(".alert"); known == "" || known != unknown {
		t.Fatalf("the answers differ: %q and %q", unknown, known)
	}

	if n := len(inbox.catcher.Messages()); n != 0 {
		t.Fatalf("the requests sent %d e-mails themselves", n)
	}
	s.startWorker()
	msg := inbox.wait("with the reset link", func(m mailcatcher.Captured) bool {
		return len(m.To) == 1 && m.To[0] == "maria.rossi@example.org" && strings.Contains(m.Text, "/password/reset?token=")
	})
	link := resetURL.FindString(msg.Text)
	if link == "" || len(inbox.catcher.Messages()) != 1 {
		t.Fatalf("reset e-mail (%d messages):\n%s", len(inbox.catcher.Messages()), msg.Text)
	}
	p.Navigate(link)
	assertPage(t, p, "Scegli una nuova password")
	p.Submit("Salva la nuova password")
	if !p.Has("#error-summary") {
		t.Fatalf("empty password accepted:\n%s", p.MainText())
	}
	p.Axe()
	p.Fill("Nuova password", "girasole-di-tradate-7")
	p.Fill("Ripeti la password", "girasole-di-tradate-7")
	p.Submit("Salva la nuova password")
	assertPath(t, p, "/login")
	assertText(t, p, "Password cambiata")

	// Maria's other session ended with the reset.
	other.Navigate("/me")
	assertPath(t, other, "/login?next=%2Fme")

	p.Fill("Nome utente", "cittadino.tradate")
	p.Fill("Password", "girasole-di-tradate-7")
	p.Submit("Accedi")
	if strings.HasPrefix(p.Path(), "/login") {
		t.Fatalf("login with the new password failed:\n%s", p.MainText())
	}

	// Once only.
	anon := browsertest.NewPage(t, s.srv.URL, "replay")
	if code := anon.NavigateStatus(link); code != http.StatusNotFound {
		t.Fatalf("used link: status %d", code)
	}
	assertPage(t, anon, "Collegamento non valido")
	anon.Navigate("/lang/en?next=/")
	if code := anon.NavigateStatus(link); code != http.StatusNotFound {
		t.Fatalf("used link (en): status %d", code)
	}
	assertPage(t, anon, "Link not valid")
	inbox.wait("saying the password changed", func(m mailcatcher.Captured) bool {
		return len(m.To) == 1 && m.To[0] == "maria.rossi@example.org" && strings.Contains(m.Subject, "cambiata")
	})
	var live int
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT count(*) FROM password_resets WHERE used_at IS NULL AND revoked_at IS NULL`).
		Scan(&live); err != nil || live != 0 {
		t.Fatalf("live reset links: %d %v", live, err)
	}
}
