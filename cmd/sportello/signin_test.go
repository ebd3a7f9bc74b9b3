package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// Sign-in with SPID/CIE: all four settings or none. None: off (no button;
// dev starts its test provider); all: on, asking SpidL2 unless told; a part
// of them, or a URL that is none, stops the start naming what is missing.
func TestSignInConfig(t *testing.T) {
	c := mustConfig(t, nil)
	if c.SignIn.configured() || c.SignIn.TestIdPAddr != devTestIdPAddr {
		t.Fatalf("defaults: %+v", c.SignIn)
	}
	full := map[string]string{"SPORTELLO_OIDC_ISSUER": "https://idp.example.it", "SPORTELLO_OIDC_CLIENT_ID": "sportello",
		"SPORTELLO_OIDC_CLIENT_SECRET": "s3cret-s3cret", "SPORTELLO_OIDC_REDIRECT_URL": "https://portale.example.it/login/spid/callback"}
	c = mustConfig(t, full)
	if !c.SignIn.configured() || c.SignIn.OIDC.ACR != "https://www.spid.gov.it/SpidL2" || c.SignIn.OIDC.ClientSecret != "s3cret-s3cret" {
		t.Fatalf("configured: %+v", c.SignIn.OIDC)
	}
	partial := map[string]string{"SPORTELLO_OIDC_ISSUER": full["SPORTELLO_OIDC_ISSUER"], "SPORTELLO_OIDC_CLIENT_ID": "sportello"}
	_, err := loadConfig(envOf(partial))
	if err == nil || !strings.Contains(err.Error(), "SPORTELLO_OIDC_CLIENT_SECRET, SPORTELLO_OIDC_REDIRECT_URL") ||
		!strings.Contains(err.Error(), "only in part") {
		t.Fatalf("partial: %v", err)
	}
	bad := map[string]string{}
	for k, v := range full {
		bad[k] = v
	}
	bad["SPORTELLO_OIDC_ISSUER"] = "idp.example.it"
	if _, err := loadConfig(envOf(bad)); err == nil {
		t.Fatal("an issuer that is no URL accepted")
	}
	if s := relyingParty(c, nil); s == nil || idpOf(s) == nil {
		t.Fatal("no relying party for a complete configuration")
	}
	if idpOf(nil) != nil {
		t.Fatal("a nil relying party is not a nil IdP")
	}
}

// dev's test identity provider: started on a loopback port when no provider
// is configured, it configures the sign-in with itself and serves discovery.
func TestDevStartsTheTestIdentityProvider(t *testing.T) {
	cfg := mustConfig(t, map[string]string{"SPORTELLO_TEST_IDP_ADDR": "127.0.0.1:0"})
	stop := startTestIdP(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if stop == nil {
		t.Fatal("not started")
	}
	defer stop()
	if !cfg.SignIn.configured() || cfg.SignIn.TestIdPURL == "" || cfg.SignIn.OIDC.RedirectURL != cfg.PublicURL+"/login/spid/callback" {
		t.Fatalf("sign-in: %+v", cfg.SignIn)
	}
	resp, err := http.Get(cfg.SignIn.TestIdPURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string   `json:"issuer"`
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Issuer != cfg.SignIn.TestIdPURL || len(doc.Methods) != 1 || doc.Methods[0] != "S256" {
		t.Fatalf("discovery: %+v %v", doc, err)
	}
	if !strings.Contains(signInBanner(cfg), "test identity provider") {
		t.Fatalf("banner: %s", signInBanner(cfg))
	}
	// A configured provider: none is started.
	full := mustConfig(t, map[string]string{"SPORTELLO_OIDC_ISSUER": "https://idp.example.it", "SPORTELLO_OIDC_CLIENT_ID": "c",
		"SPORTELLO_OIDC_CLIENT_SECRET": "s", "SPORTELLO_OIDC_REDIRECT_URL": "https://portale.example.it/login/spid/callback"})
	if startTestIdP(context.Background(), &full, slog.New(slog.NewTextHandler(io.Discard, nil))) != nil {
		t.Fatal("started next to a configured provider")
	}
}
