package accounts

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"sportello/internal/app"
	"sportello/internal/auth"
	"sportello/internal/oidcrp"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testidp"
)

const testRedirect = "http://portal.test/login/spid/callback"

// signInDoor is the door with the SPID/CIE-style sign-in against the test
// identity provider; tamper, when set, changes the ID tokens' claims.
func signInDoor(t *testing.T, tamper func(map[string]any)) (Service, *store.Store) {
	t.Helper()
	s, _, st := door(t)
	var idp *testidp.Server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idp.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	idp, err = testidp.New(testidp.Options{Issuer: srv.URL, ClientID: "portal", ClientSecret: "portal-secret",
		RedirectURLs: []string{testRedirect}, Citizens: testidp.DemoCitizens(), Tamper: tamper})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := oidcrp.New(oidcrp.Config{Issuer: srv.URL, ClientID: "portal", ClientSecret: "portal-secret",
		RedirectURL: testRedirect, ACR: testidp.SpidL2})
	if err != nil {
		t.Fatal(err)
	}
	s.IdP = rp
	return s, st
}

// authorize starts a sign-in and chooses taxCode at level acr on the
// provider's page: the callback's parameters (state, code).
func authorize(t *testing.T, s Service, taxCode, acr string) (Started, url.Values) {
	t.Helper()
	started, err := s.BeginSignIn(context.Background(), "/me")
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	u, err := url.Parse(started.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
		q.Get("state") != started.State || q.Get("acr_values") != testidp.SpidL2 {
		t.Fatalf("authorization request: %v", q)
	}
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("citizen", taxCode)
	form.Set("acr", acr)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(u.Scheme+"://"+u.Host+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(back.String(), testRedirect) {
		t.Fatalf("provider answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return started, back.Query()
}

func finish(s Service, started Started, q url.Values) (SignedIn, error) {
	return s.FinishSignIn(context.Background(), Callback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		BrowserState: started.State})
}

// refusedAs checks err is the refusal want, of a kind that is no fault.
func refusedAs(t *testing.T, what string, err, want error) {
	t.Helper()
	var ae *app.Error
	if !errors.Is(err, want) || !errors.As(err, &ae) || ae.Kind == app.Internal {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// A resident seen for the first time gets an account on the spot, the
// session records the level of assurance, a known citizen finds their
// account, a person outside the registry is refused with not_resident.
func TestSignInEnrolsResidentsAndRecordsTheLevel(t *testing.T) {
	s, st := signInDoor(t, nil)
	ctx := context.Background()
	luca, maria := seed.Residents()[2], seed.Residents()[0]

	started, q := authorize(t, s, luca.TaxCode(), testidp.SpidL3)
	in, err := finish(s, started, q)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	if !in.Enrolled || in.User.TaxCode != luca.TaxCode() || in.User.DisplayName != "Luca Colombo" ||
		in.User.Municipality != "tradate" || in.User.Role != "citizen" || in.User.Username != "luca.colombo" || in.Next != "/me" || in.LoA != testidp.SpidL3 {
		t.Fatalf("signed in: %+v", in)
	}
	sess, err := s.Resolve(ctx, in.Token)
	if err != nil || sess.User.ID != in.User.ID {
		t.Fatalf("resolve: %+v %v", sess, err)
	}
	by, err := s.SignInOf(ctx, auth.TokenHash(in.Token))
	if err != nil || by.Method != store.SessionOIDC || by.LoA != testidp.SpidL3 {
		t.Fatalf("session sign-in: %+v %v", by, err)
	}
	// The account has no password: a password login with an empty one fails.
	if _, err := s.Login(ctx, Credentials{Username: in.User.Username, Password: "x"}, "192.0.2.9"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("password login of an OIDC account: %v", err)
	}
	var audited int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, AuditEnrolledOIDC).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("enrolment audited %d times: %v", audited, err)
	}

	// Again: the same account, not enrolled twice.
	started, q = authorize(t, s, luca.TaxCode(), testidp.SpidL2)
	if again, err := finish(s, started, q); err != nil || again.Enrolled || again.User.ID != in.User.ID {
		t.Fatalf("second sign-in: %+v %v", again, err)
	}
	// Maria has a demo account: it is hers.
	started, q = authorize(t, s, maria.TaxCode(), testidp.SpidL2)
	if m, err := finish(s, started, q); err != nil || m.Enrolled || m.User.Username != "cittadino.tradate" {
		t.Fatalf("maria: %+v %v", m, err)
	}
	// Carla is in no registry served here.
	started, q = authorize(t, s, testidp.Outsider().TaxCode, testidp.SpidL2)
	_, err = finish(s, started, q)
	refusedAs(t, "outsider", err, ErrNotResident)
}

// The rejection paths: a tampered state, a state from another browser, a
// replayed callback, a code already spent, a cancelled login, a wrong
// nonce, another audience, a missing tax code. Each is a refusal with its
// code, never a fault.
func TestSignInRejections(t *testing.T) {
	var tamper func(map[string]any)
	s, _ := signInDoor(t, func(c map[string]any) {
		if tamper != nil {
			tamper(c)
		}
	})
	luca := seed.Residents()[2].TaxCode()

	// A tampered state finds no login.
	started, q := authorize(t, s, luca, testidp.SpidL2)
	bad := url.Values{"state": {q.Get("state") + "x"}, "code": {q.Get("code")}}
	_, err := s.FinishSignIn(context.Background(), Callback{State: bad.Get("state"), Code: bad.Get("code"), BrowserState: bad.Get("state")})
	refusedAs(t, "tampered state", err, ErrSignInState)
	// ... and the genuine one still works once; replayed, it is spent.
	if _, err := finish(s, started, q); err != nil {
		t.Fatalf("genuine callback: %v", err)
	}
	_, err = finish(s, started, q)
	refusedAs(t, "replayed callback", err, ErrSignInState)

	// A state this browser did not start (login CSRF).
	started, q = authorize(t, s, luca, testidp.SpidL2)
	_, err = s.FinishSignIn(context.Background(), Callback{State: q.Get("state"), Code: q.Get("code"), BrowserState: "another"})
	refusedAs(t, "state of another browser", err, ErrSignInState)
	// A code replayed with a fresh login: the provider refuses it.
	_, err = finish(s, started, q)
	refusedAs(t, "state spent by the refused attempt", err, ErrSignInState)
	spentCode := q.Get("code")
	started2, q2 := authorize(t, s, luca, testidp.SpidL2)
	q2.Set("code", spentCode)
	_, err = finish(s, started2, q2)
	refusedAs(t, "replayed code", err, ErrSignInCode)

	// Cancelled at the provider.
	started, _ = authorize(t, s, luca, testidp.SpidL2)
	_, err = finish(s, started, url.Values{"state": {started.State}, "error": {"access_denied"}})
	refusedAs(t, "cancelled", err, ErrSignInCancelled)

	for _, c := range []struct {
		name   string
		tamper func(map[string]any)
		want   error
	}{
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "not-this-login" }, ErrSignInNonce},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }, ErrSignInNonce},
		{"another audience", func(c map[string]any) { c["aud"] = "someone-else" }, ErrSignInToken},
		{"expired token", func(c map[string]any) { c["exp"] = int64(1000) }, ErrSignInToken},
		{"no fiscalNumber", func(c map[string]any) { delete(c, "fiscalNumber") }, ErrSignInTax},
		{"fiscalNumber without TINIT-", func(c map[string]any) { c["fiscalNumber"] = luca }, ErrSignInTax},
		{"wrong check character", func(c map[string]any) { c["fiscalNumber"] = "TINIT-" + luca[:15] + "A" }, ErrSignInTax},
	} {
		tamper = c.tamper
		started, q := authorize(t, s, luca, testidp.SpidL2)
		_, err := finish(s, started, q)
		refusedAs(t, c.name, err, c.want)
	}
	tamper = nil

	// Off: no provider configured.
	s.IdP = nil
	if _, err := s.BeginSignIn(context.Background(), "/"); !errors.Is(err, ErrSignInOff) {
		t.Fatalf("off: %v", err)
	}
}

// The PKCE verifier: a token request without the right one is refused by
// the provider (the relying party always sends it; this checks the
// provider the flow's tests rely on).
func TestTestProviderRequiresPKCE(t *testing.T) {
	s, _ := signInDoor(t, nil)
	_, q := authorize(t, s, seed.Residents()[2].TaxCode(), testidp.SpidL2)
	iss := strings.TrimSuffix(s.IdP.(*oidcrp.Client).Issuer(), "/")
	resp, err := http.PostForm(iss+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {testRedirect}, "client_id": {"portal"}, "client_secret": {"portal-secret"},
		"code_verifier": {strings.Repeat("a", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("token without the right verifier: %d", resp.StatusCode)
	}
}
