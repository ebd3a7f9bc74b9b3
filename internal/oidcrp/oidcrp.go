// Package oidcrp is Sportello's side of an OpenID Connect sign-in in the
// shape of SPID and CIE (the relying party), over coreos/go-oidc and
// golang.org/x/oauth2: the authorization code flow with PKCE (S256), the
// ID token's signature, issuer, audience, expiry and nonce checked, and the
// SPID claims read (fiscalNumber "TINIT-<tax code>", acr the level of
// assurance). It knows no database and no session: internal/app/accounts
// keeps the state of a started login and decides who signs in.
//
// The provider's discovery document is fetched at the first sign-in, not at
// start-up, so the portal starts while the identity provider is away.
package oidcrp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is the relying party's registration at the provider.
type Config struct {
	Issuer       string // the provider's issuer URL
	ClientID     string
	ClientSecret string
	RedirectURL  string // the portal's callback, registered at the provider
	// ACR is the level of assurance asked for (acr_values); "" asks none.
	ACR string
	// HTTPClient talks to the provider (a 10-second client when nil).
	HTTPClient *http.Client
}

// Check reports what is wrong with a configuration that is meant to be
// complete (every field set, URLs absolute).
func (c Config) Check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"issuer", c.Issuer}, {"client id", c.ClientID},
		{"client secret", c.ClientSecret}, {"redirect URL", c.RedirectURL}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	for _, u := range []string{c.Issuer, c.RedirectURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("%q is not an http(s) URL", u)
		}
	}
	return nil
}

// Identity is what the provider asserted about the person.
type Identity struct {
	Subject    string
	TaxCode    string // the fiscalNumber without its "TINIT-" prefix, in upper case
	LoA        string // the acr claim
	Email      string
	Name       string
	FamilyName string
}

// The refusals of a callback.
var (
	// ErrUnavailable: the provider's discovery or token endpoint did not answer.
	ErrUnavailable = errors.New("oidc: the identity provider is not reachable")
	// ErrCodeRefused: the provider refused the code (used already, expired,
	// a wrong PKCE verifier or redirect URL).
	ErrCodeRefused = errors.New("oidc: the identity provider refused the authorization code")
	// ErrBadToken: the ID token is missing, or its signature, issuer,
	// audience or expiry is wrong.
	ErrBadToken = errors.New("oidc: the ID token is not valid")
	// ErrNonce: the ID token's nonce is not the one of this login.
	ErrNonce = errors.New("oidc: the ID token's nonce does not match the login")
	// ErrNoTaxCode: the token carries no usable fiscalNumber.
	ErrNoTaxCode = errors.New("oidc: the ID token carries no fiscalNumber")
)

// Client is the relying party.
type Client struct {
	cfg  Config
	http *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns the relying party of cfg (checked); nothing is fetched yet.
func New(cfg Config) (*Client, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// NewVerifier returns a fresh PKCE code verifier.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// discover fetches the provider's metadata once (again after a failure).
func (c *Client) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return c.oauth, c.verifier, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.http), c.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
	return c.oauth, c.verifier, nil
}

// AuthURL is the provider's address that starts a login with state, nonce
// and the S256 challenge of verifier.
func (c *Client) AuthURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	oc, _, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if c.cfg.ACR != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", c.cfg.ACR))
	}
	return oc.AuthCodeURL(state, opts...), nil
}

// Exchange trades code (with the login's PKCE verifier) for the ID token,
// checks it and its nonce, and returns the identity it asserts.
func (c *Client) Exchange(ctx context.Context, code, verifier, nonce string) (Identity, error) {
	oc, v, err := c.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	tok, err := oc.Exchange(oidc.ClientContext(ctx, c.http), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return Identity{}, fmt.Errorf("%w: %s", ErrCodeRefused, re.ErrorCode)
		}
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: no id_token in the answer", ErrBadToken)
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if nonce == "" || idt.Nonce != nonce {
		return Identity{}, ErrNonce
	}
	var claims struct {
		FiscalNumber string `json:"fiscalNumber"`
		ACR          string `json:"acr"`
		Email        string `json:"email"`
		Name         string `json:"name"`
		FamilyName   string `json:"familyName"`
	}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	taxCode, ok := TaxCode(claims.FiscalNumber)
	if !ok {
		return Identity{}, ErrNoTaxCode
	}
	return Identity{Subject: idt.Subject, TaxCode: taxCode, LoA: claims.ACR, Email: claims.Email,
		Name: claims.Name, FamilyName: claims.FamilyName}, nil
}

// TaxCode reads SPID's fiscalNumber ("TINIT-RSSMRA80A01L400X"): the tax
// code in upper case, ok when the prefix is there and the rest is 16
// letters and digits (its check character is the caller's to verify).
func TaxCode(fiscalNumber string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(fiscalNumber)), "TINIT-")
	if !ok || len(rest) != 16 {
		return "", false
	}
	for _, r := range rest {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return "", false
		}
	}
	return rest, true
}

// Issuer is the provider's issuer URL.
func (c *Client) Issuer() string { return c.cfg.Issuer }
