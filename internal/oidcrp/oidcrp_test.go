package oidcrp

import (
	"strings"
	"testing"
)

// SPID's fiscalNumber: "TINIT-" and sixteen letters and digits.
func TestTaxCode(t *testing.T) {
	for in, want := range map[string]string{
		"TINIT-RSSMRA80A01L400X":   "RSSMRA80A01L400X",
		" tinit-rssmra80a01l400x ": "RSSMRA80A01L400X",
		"RSSMRA80A01L400X":         "",
		"TINIT-RSSMRA80A01L400":    "",
		"TINIT-RSSMRA80A01L400X1":  "",
		"TINIT-RSSMRA80A01L40-X":   "",
		"":                         "",
	} {
		got, ok := TaxCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("TaxCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// A configuration is all of it, with URLs that are URLs.
func TestConfigCheck(t *testing.T) {
	full := Config{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s", RedirectURL: "https://portal.example/cb"}
	if err := full.Check(); err != nil {
		t.Fatal(err)
	}
	part := full
	part.ClientSecret, part.RedirectURL = "", " "
	if err := part.Check(); err == nil || !strings.Contains(err.Error(), "client secret, redirect URL") {
		t.Fatalf("partial: %v", err)
	}
	bad := full
	bad.Issuer = "idp.example"
	if err := bad.Check(); err == nil {
		t.Fatal("an issuer without scheme accepted")
	}
	if _, err := New(part); err == nil {
		t.Fatal("New accepted a partial configuration")
	}
}
