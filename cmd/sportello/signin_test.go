package main

import (
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
