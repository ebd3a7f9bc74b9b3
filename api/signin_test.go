package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"sportello/api"
)

var apiResetLink = regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_%-]+)`)

// The JSON doors of the password reset: 202 alike for an unknown and a
// real account (only the real one gets an e-mail), the token works once
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
	msgs := e.mail.to("maria.rossi@example.org")
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails to Maria", len(msgs))
	}
	m := apiResetLink.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no link in:\n%s", msgs[0].Text)
	}
	token, _ := url.QueryUnescape(m[1])

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
