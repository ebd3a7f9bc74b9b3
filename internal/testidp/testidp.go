// Package testidp is a local OpenID Connect identity provider in the shape
// of SPID and CIE, for development and tests only: `sportello dev` starts
// it so that the whole sign-in runs offline, and the tests drive it.
//
// It serves discovery, its signing keys (JWKS), an authorization page that
// lists the demo citizens and lets one choose the level of assurance
// (SpidL1, SpidL2, SpidL3), and a token endpoint. It speaks only the
// authorization code flow with PKCE (S256), requires a state and a nonce,
// accepts each code once, and signs ID tokens (RS256) carrying the SPID
// claims Sportello reads: fiscalNumber ("TINIT-" and the tax code), name,
// familyName, email and acr. It is never a production identity provider:
// it authenticates nobody, anyone may pick any citizen.
package testidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Levels of assurance of SPID (the acr values).
const (
	SpidL1 = "https://www.spid.gov.it/SpidL1"
	SpidL2 = "https://www.spid.gov.it/SpidL2"
	SpidL3 = "https://www.spid.gov.it/SpidL3"
)

// Levels lists the levels of assurance the page offers, lowest first.
var Levels = []string{SpidL1, SpidL2, SpidL3}

// Citizen is an identity the provider can assert.
type Citizen struct {
	TaxCode   string // the codice fiscale, without the TINIT- prefix
	FirstName string
	LastName  string
	Email     string // "" : no email claim
	Note      string // shown on the page (e.g. "not in the registry")
}

// Options configure the provider.
type Options struct {
	// Issuer is the provider's public address (http://127.0.0.1:8092);
	// its endpoints are below it.
	Issuer string
	// ClientID and ClientSecret are the one client's credentials.
	ClientID, ClientSecret string
	// RedirectURLs are the client's registered redirect URLs.
	RedirectURLs []string
	// Citizens are the identities listed on the page.
	Citizens []Citizen
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger (slog.Default when nil).
	Logger *slog.Logger
	// Tamper, when set, may change the claims of an ID token before it is
	// signed (tests: a wrong nonce, another audience).
	Tamper func(claims map[string]any)
}

// Server is the identity provider (an http.Handler).
type Server struct {
	o   Options
	key *rsa.PrivateKey
	kid string
	mux *http.ServeMux

	mu    sync.Mutex
	codes map[string]*grant
}

// grant is an authorization code and what it was issued for.
type grant struct {
	redirect, challenge, nonce, acr string
	citizen                         Citizen
	expires                         time.Time
	used                            bool
}

// codeTTL is how long an authorization code may be exchanged.
const codeTTL = time.Minute

// New returns a provider with a fresh signing key.
func New(o Options) (*Server, error) {
	if o.Issuer == "" || o.ClientID == "" || o.ClientSecret == "" || len(o.RedirectURLs) == 0 {
		return nil, errors.New("testidp: issuer, client id, client secret and redirect URLs are required")
	}
	o.Issuer = strings.TrimRight(o.Issuer, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, key: key, kid: randomString(8), mux: http.NewServeMux(), codes: map[string]*grant{}}
	s.mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	s.mux.HandleFunc("GET /jwks", s.jwks)
	s.mux.HandleFunc("GET /authorize", s.authorizePage)
	s.mux.HandleFunc("POST /authorize", s.authorizeSubmit)
	s.mux.HandleFunc("POST /token", s.token)
	return s, nil
}

// Issuer is the provider's address.
func (s *Server) Issuer() string { return s.o.Issuer }

// ServeHTTP serves the provider's endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.o.Issuer,
		"authorization_endpoint":                s.o.Issuer + "/authorize",
		"token_endpoint":                        s.o.Issuer + "/token",
		"jwks_uri":                              s.o.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"acr_values_supported":                  Levels,
		"claims_supported":                      []string{"sub", "fiscalNumber", "name", "familyName", "email", "acr"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256), Use: "sig"}}})
}

// authRequest is a checked authorization request.
type authRequest struct {
	redirect, state, nonce, challenge, acr string
}

// checkAuthRequest checks the client's parameters: a problem with the
// client or its redirect URL is shown on the page (never redirected to an
// unknown address); others go back to the client as an OAuth error.
func (s *Server) checkAuthRequest(q url.Values) (authRequest, string, string) {
	ar := authRequest{redirect: q.Get("redirect_uri"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), acr: q.Get("acr_values")}
	if q.Get("client_id") != s.o.ClientID {
		return ar, "", "unknown client_id"
	}
	if !slices.Contains(s.o.RedirectURLs, ar.redirect) {
		return ar, "", "redirect_uri is not registered"
	}
	switch {
	case q.Get("response_type") != "code":
		return ar, "unsupported_response_type", ""
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		return ar, "invalid_scope", ""
	case ar.state == "" || ar.nonce == "":
		return ar, "invalid_request", ""
	case q.Get("code_challenge_method") != "S256" || len(ar.challenge) < 43:
		return ar, "invalid_request", ""
	}
	return ar, "", ""
}

func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ar, oauthErr, pageErr := s.checkAuthRequest(q)
	if pageErr != "" {
		http.Error(w, "test identity provider: "+pageErr, http.StatusBadRequest)
		return
	}
	if oauthErr != "" {
		redirectBack(w, r, ar.redirect, url.Values{"error": {oauthErr}, "state": {ar.state}})
		return
	}
	lang := "it"
	if q.Get("lang") == "en" {
		lang = "en"
	}
	level := SpidL2
	for _, l := range strings.Fields(ar.acr) {
		if slices.Contains(Levels, l) {
			level = l
			break
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+originOf(ar.redirect)+"; frame-ancestors 'none'")
	other := url.Values{}
	for k, v := range q {
		other[k] = v
	}
	other.Set("lang", pageTexts[lang].Other)
	if err := pageTmpl.Execute(w, pageData{T: pageTexts[lang], Params: q, Citizens: s.o.Citizens, Levels: Levels, Level: level,
		OtherHref: "?" + other.Encode()}); err != nil {
		s.o.Logger.Warn("test identity provider page", "err", err)
	}
}

func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ar, oauthErr, pageErr := s.checkAuthRequest(r.PostForm)
	if pageErr != "" {
		http.Error(w, "test identity provider: "+pageErr, http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {ar.state}}
	if oauthErr != "" || r.PostForm.Get("cancel") != "" {
		back.Set("error", cmpOr(oauthErr, "access_denied"))
		redirectBack(w, r, ar.redirect, back)
		return
	}
	i := slices.IndexFunc(s.o.Citizens, func(c Citizen) bool { return c.TaxCode == r.PostForm.Get("citizen") })
	acr := r.PostForm.Get("acr")
	if i < 0 || !slices.Contains(Levels, acr) {
		http.Error(w, "test identity provider: choose a citizen and a level", http.StatusUnprocessableEntity)
		return
	}
	code := randomString(32)
	s.mu.Lock()
	now := s.o.Now()
	for k, g := range s.codes {
		if now.After(g.expires.Add(time.Hour)) {
			delete(s.codes, k)
		}
	}
	s.codes[code] = &grant{redirect: ar.redirect, challenge: ar.challenge, nonce: ar.nonce, acr: acr,
		citizen: s.o.Citizens[i], expires: now.Add(codeTTL)}
	s.mu.Unlock()
	back.Set("code", code)
	redirectBack(w, r, ar.redirect, back)
}

// token exchanges a code for an ID token: the client authenticated, the
// code live and unused, the redirect URL the same, and the PKCE verifier's
// S256 the challenge. A code presented twice fails the second time.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.o.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.o.ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	s.mu.Lock()
	g := s.codes[r.PostForm.Get("code")]
	var problem string
	switch {
	case g == nil:
		problem = "unknown code"
	case g.used:
		problem = "code already used"
	case s.o.Now().After(g.expires):
		problem = "code expired"
	case g.redirect != r.PostForm.Get("redirect_uri"):
		problem = "redirect_uri differs"
	case !verifierMatches(r.PostForm.Get("code_verifier"), g.challenge):
		problem = "PKCE verifier does not match"
	}
	if g != nil {
		// A code is tried once: whatever the outcome, it is spent.
		g.used = true
	}
	s.mu.Unlock()
	if problem != "" {
		tokenError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	idToken, err := s.idToken(g)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not sign")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomString(32), "token_type": "Bearer",
		"expires_in": 300, "id_token": idToken})
}

// Subject is the stable subject the provider gives a tax code.
func Subject(taxCode string) string {
	sum := sha256.Sum256([]byte("sportello-testidp:" + taxCode))
	return hex.EncodeToString(sum[:16])
}

func (s *Server) idToken(g *grant) (string, error) {
	now := s.o.Now()
	claims := map[string]any{
		"iss": s.o.Issuer, "sub": Subject(g.citizen.TaxCode), "aud": s.o.ClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce, "acr": g.acr,
		"fiscalNumber": "TINIT-" + g.citizen.TaxCode, "name": g.citizen.FirstName, "familyName": g.citizen.LastName,
	}
	if g.citizen.Email != "" {
		claims["email"] = g.citizen.Email
	}
	if s.o.Tamper != nil {
		s.o.Tamper(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.kid))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func redirectBack(w http.ResponseWriter, r *http.Request, redirect string, q url.Values) {
	u, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	vals := u.Query()
	for k, v := range q {
		vals[k] = v
	}
	u.RawQuery = vals.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("testidp: random: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
