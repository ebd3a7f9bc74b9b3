package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"sportello/api"
	"sportello/internal/auth"
	"sportello/internal/store"
)

// GET /api/v1/me says how the session was opened (issue 16), as the
// portal's personal area does: a password login has no level of assurance,
// a SPID/CIE-style sign-in has the one the provider sent.
func TestMeSaysTheSignInMethodAndLevelOfAssurance(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/me", "cittadino.tradate", nil)
	expectStatus(t, r, http.StatusOK)
	var me api.MeResponse
	r.json(t, &me)
	if me.Username != "cittadino.tradate" || me.SignInMethod != store.SessionPassword || me.LoA != "" {
		t.Fatalf("password session: %s", r.body)
	}

	u, _, err := e.st.API().UserForLogin(context.Background(), "cittadino.tradate")
	if err != nil {
		t.Fatal(err)
	}
	const token, loa = "oidc-session-token-for-the-test", "https://www.spid.gov.it/SpidL2"
	if _, err := e.st.API().CreateSessionBy(context.Background(), u.ID, auth.TokenHash(token), time.Hour,
		store.SessionSignIn{Method: store.SessionOIDC, LoA: loa}); err != nil {
		t.Fatal(err)
	}
	r = e.do("GET", "/api/v1/me", "", nil, hdr{"Authorization": "Bearer " + token})
	expectStatus(t, r, http.StatusOK)
	me = api.MeResponse{}
	r.json(t, &me)
	if me.Username != "cittadino.tradate" || me.SignInMethod != store.SessionOIDC || me.LoA != loa {
		t.Fatalf("OIDC session: %s", r.body)
	}
}
