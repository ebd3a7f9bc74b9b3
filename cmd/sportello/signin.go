package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"sportello/api/web"
	"sportello/internal/app/accounts"
	"sportello/internal/oidcrp"
	"sportello/internal/testidp"
)

// Sign-in with SPID/CIE (issue 16): the OpenID Connect provider's settings.
// All four of issuer, client id, client secret and redirect URL, or none:
// a partial configuration refuses to start (a portal that shows a button
// that cannot work, or that silently has none, is worse than no start).
// None set: production shows no "Entra con SPID/CIE" button; `sportello
// dev` starts the local test identity provider and uses it.
type signInConfig struct {
	OIDC oidcrp.Config // SPORTELLO_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _REDIRECT_URL, _ACR
	// TestIdPAddr is where dev's test identity provider listens
	// (SPORTELLO_TEST_IDP_ADDR, default 127.0.0.1:8092).
	TestIdPAddr string
	// TestIdPURL is set by dev when its test identity provider runs.
	TestIdPURL string
}

// configured tells whether the provider is set (all of it).
func (c signInConfig) configured() bool { return c.OIDC.Issuer != "" }

const (
	devTestIdPAddr     = "127.0.0.1:8092"
	devTestIdPClient   = "sportello-dev"
	devTestIdPSecret   = "sportello-dev-idp-secret" // the test provider's; public
	defaultSignInLevel = testidp.SpidL2
)

// oidcEnv names the four settings, in the order they are reported.
var oidcEnv = []string{"SPORTELLO_OIDC_ISSUER", "SPORTELLO_OIDC_CLIENT_ID", "SPORTELLO_OIDC_CLIENT_SECRET", "SPORTELLO_OIDC_REDIRECT_URL"}

func loadSignInConfig(getenv func(string) string) (signInConfig, error) {
	vals := make([]string, len(oidcEnv))
	var set, missing []string
	for i, k := range oidcEnv {
		vals[i] = strings.TrimSpace(getenv(k))
		if vals[i] == "" {
			missing = append(missing, k)
		} else {
			set = append(set, k)
		}
	}
	c := signInConfig{TestIdPAddr: strings.TrimSpace(getenv("SPORTELLO_TEST_IDP_ADDR"))}
	if c.TestIdPAddr == "" {
		c.TestIdPAddr = devTestIdPAddr
	}
	if len(set) == 0 {
		return c, nil
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("sign-in with SPID/CIE is configured only in part (%s set): set %s too, or none of them",
			strings.Join(set, ", "), strings.Join(missing, ", "))
	}
	c.OIDC = oidcrp.Config{Issuer: vals[0], ClientID: vals[1], ClientSecret: vals[2], RedirectURL: vals[3],
		ACR: strings.TrimSpace(getenv("SPORTELLO_OIDC_ACR"))}
	if c.OIDC.ACR == "" {
		c.OIDC.ACR = defaultSignInLevel
	}
	if err := c.OIDC.Check(); err != nil {
		return c, fmt.Errorf("SPORTELLO_OIDC_*: %w", err)
	}
	return c, nil
}

// relyingParty is the sign-in's client, nil when none is configured.
func relyingParty(cfg config, logger *slog.Logger) *oidcrp.Client {
	if !cfg.SignIn.configured() {
		return nil
	}
	rp, err := oidcrp.New(cfg.SignIn.OIDC)
	if err != nil {
		// Checked with the configuration: a programming error.
		logger.Error("sign-in with SPID/CIE off", "err", err)
		return nil
	}
	return rp
}

// startTestIdP starts dev's test identity provider when no provider is
// configured, and configures the sign-in with it. A busy port is not
// fatal: the portal runs without the SPID/CIE button.
func startTestIdP(ctx context.Context, cfg *config, logger *slog.Logger) func() {
	if cfg.SignIn.configured() {
		logger.Info("test identity provider not started: SPORTELLO_OIDC_ISSUER is set", "issuer", cfg.SignIn.OIDC.Issuer)
		return nil
	}
	ln := listenLoopback(logger, "test identity provider", "SPORTELLO_TEST_IDP_ADDR", "http://"+cfg.SignIn.TestIdPAddr, slog.LevelWarn)
	if ln == nil {
		return nil
	}
	issuer := "http://" + ln.Addr().String()
	redirect := cfg.PublicURL + web.SignInCallbackPath
	idp, err := testidp.New(testidp.Options{Issuer: issuer, ClientID: devTestIdPClient, ClientSecret: devTestIdPSecret,
		RedirectURLs: []string{redirect}, Citizens: testidp.DemoCitizens(), Logger: logger})
	if err != nil {
		_ = ln.Close()
		logger.Warn("test identity provider not started", "err", err)
		return nil
	}
	cfg.SignIn.OIDC = oidcrp.Config{Issuer: issuer, ClientID: devTestIdPClient, ClientSecret: devTestIdPSecret,
		RedirectURL: redirect, ACR: defaultSignInLevel}
	cfg.SignIn.TestIdPURL = issuer
	srv := &http.Server{Handler: idp, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("test identity provider", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
}

// signInBanner is the banner's line of the sign-in.
func signInBanner(cfg config) string {
	switch {
	case cfg.SignIn.TestIdPURL != "":
		return cfg.SignIn.TestIdPURL + " (test identity provider, demo citizens)"
	case cfg.SignIn.configured():
		return cfg.SignIn.OIDC.Issuer
	}
	return "off"
}

// idpOf is rp as the API's IdP: nil (no sign-in) when rp is nil, never an
// interface holding a nil pointer.
func idpOf(rp *oidcrp.Client) accounts.IdentityProvider {
	if rp == nil {
		return nil
	}
	return rp
}
