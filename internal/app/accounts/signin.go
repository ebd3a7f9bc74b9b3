package accounts

import (
	"context"
	"errors"
	"time"

	"sportello/forms"
	"sportello/internal/app"
	"sportello/internal/auth"
	"sportello/internal/oidcrp"
	"sportello/internal/store"
)

// Sign-in like the national systems (issue 16): OpenID Connect in the
// shape of SPID and CIE. BeginSignIn records the login (the hash of its
// state, its nonce and PKCE verifier) in PostgreSQL and sends the browser to
// the identity provider; FinishSignIn consumes that record with the state
// the provider sends back (once: a replayed or tampered callback finds
// nothing), has the code exchanged and the ID token checked, maps the
// fiscalNumber to the citizen (enrolling a resident seen for the first
// time) and opens a session that records the level of assurance.

// IdentityProvider is the relying party of the OIDC provider
// (*oidcrp.Client is one).
type IdentityProvider interface {
	AuthURL(ctx context.Context, state, nonce, verifier string) (string, error)
	Exchange(ctx context.Context, code, verifier, nonce string) (oidcrp.Identity, error)
}

// Audit action of the sign-in.
const AuditEnrolledOIDC = "citizen_enrolled_oidc"

// signInTTL is how long a started login may come back.
const signInTTL = 10 * time.Minute

// The refusals of the sign-in: each has its page, none is a fault.
var (
	ErrSignInOff = app.Refuse(app.NotFound, "signin_off", "sign-in with SPID/CIE is not configured")
	// ErrSignInState: the state is unknown, expired, already used, or not
	// the one this browser started.
	ErrSignInState = app.Refuse(app.Unauthenticated, "signin_state",
		"the sign-in is unknown, expired or already finished; start again")
	ErrSignInCancelled = app.Refuse(app.Unauthenticated, "signin_cancelled", "the sign-in was cancelled at the identity provider")
	ErrSignInCode      = app.Refuse(app.Unauthenticated, "signin_code_refused",
		"the identity provider refused the authorization code (used already or expired); start again")
	ErrSignInToken = app.Refuse(app.Unauthenticated, "signin_token_invalid", "the identity provider's answer is not valid")
	ErrSignInNonce = app.Refuse(app.Unauthenticated, "signin_nonce", "the identity provider's answer is not for this sign-in")
	ErrSignInTax   = app.Refuse(app.Unauthenticated, "signin_no_tax_code", "the identity provider sent no valid tax code")
	ErrSignInIdP   = app.Refuse(app.Unavailable, "idp_unavailable", "the identity provider does not answer; try again later")
	// ErrNotResident: a person the population registry does not list.
	ErrNotResident = app.Refuse(app.Forbidden, "not_resident",
		"the tax code is not among the residents of the municipalities served here")
)

// SignInEnabled tells whether the SPID/CIE sign-in is configured.
func (s Service) SignInEnabled() bool { return s.IdP != nil }

// Started is a login sent to the identity provider: the address to send
// the browser to, and the state the browser must bring back (the page keeps
// it in a cookie, so that a callback is finished only by the browser that
// started it).
type Started struct {
	URL, State string
}

// BeginSignIn starts a login that will come back to next (a path of the
// portal, checked by the caller).
func (s Service) BeginSignIn(ctx context.Context, next string) (Started, error) {
	if s.IdP == nil {
		return Started{}, ErrSignInOff
	}
	state, stateHash, err := auth.NewToken()
	if err != nil {
		return Started{}, err
	}
	nonce, _, err := auth.NewToken()
	if err != nil {
		return Started{}, err
	}
	verifier := oidcrp.NewVerifier()
	u, err := s.IdP.AuthURL(ctx, state, nonce, verifier)
	if errors.Is(err, oidcrp.ErrUnavailable) {
		s.Log.WarnContext(ctx, "identity provider unavailable", "request_id", app.RequestID(ctx), "err", err)
		return Started{}, ErrSignInIdP
	}
	if err != nil {
		return Started{}, err
	}
	if err := s.API.SaveOIDCLogin(ctx, stateHash, store.OIDCLogin{Nonce: nonce, Verifier: verifier, Next: next}, s.Now(), signInTTL); err != nil {
		return Started{}, err
	}
	return Started{URL: u, State: state}, nil
}

// Callback is what the identity provider sends back, with the state the
// browser kept.
type Callback struct {
	State, Code, Error string
	BrowserState       string
}

// SignedIn is a finished sign-in: the user, their new session and where
// to go.
type SignedIn struct {
	User     store.UserView
	Token    string
	Expires  time.Time
	Next     string
	LoA      string
	Enrolled bool // the account was created now
}

// FinishSignIn finishes a login (see the package's notes on sign-in).
func (s Service) FinishSignIn(ctx context.Context, cb Callback) (SignedIn, error) {
	if s.IdP == nil {
		return SignedIn{}, ErrSignInOff
	}
	if cb.State == "" || len(cb.State) > 256 || len(cb.Code) > 2048 {
		return SignedIn{}, ErrSignInState
	}
	login, err := s.API.TakeOIDCLogin(ctx, auth.TokenHash(cb.State), s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return SignedIn{}, ErrSignInState
	}
	if err != nil {
		return SignedIn{}, err
	}
	// The login is consumed already: whatever follows, its state is spent.
	if cb.BrowserState != cb.State {
		return SignedIn{}, ErrSignInState
	}
	if cb.Error != "" || cb.Code == "" {
		return SignedIn{}, ErrSignInCancelled
	}
	id, err := s.IdP.Exchange(ctx, cb.Code, login.Verifier, login.Nonce)
	if err != nil {
		s.Log.InfoContext(ctx, "sign-in refused", "request_id", app.RequestID(ctx), "err", err)
		return SignedIn{}, signInRefusal(err)
	}
	if !forms.ValidTaxCode(id.TaxCode) {
		return SignedIn{}, ErrSignInTax
	}
	u, enrolled, err := s.API.CitizenForSignIn(ctx, id.TaxCode, id.Email)
	if errors.Is(err, store.ErrNotResident) {
		return SignedIn{}, ErrNotResident
	}
	if err != nil {
		return SignedIn{}, err
	}
	if enrolled {
		e := store.AuditEntry{District: u.District, Municipality: u.Municipality, ActorID: u.ID, ActorUsername: u.Username,
			ActorRole: u.Role, Action: AuditEnrolledOIDC, RequestID: app.RequestID(ctx),
			Detail: app.AuditDetail(map[string]any{"loa": id.LoA, "subject": id.Subject})}
		if err := s.API.Audit(ctx, store.System, e); err != nil {
			return SignedIn{}, err
		}
	}
	token, expires, err := s.StartBy(ctx, u, store.SessionSignIn{Method: store.SessionOIDC, LoA: id.LoA})
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{User: u, Token: token, Expires: expires, Next: login.Next, LoA: id.LoA, Enrolled: enrolled}, nil
}

// signInRefusal is the refusal of a failed exchange.
func signInRefusal(err error) error {
	switch {
	case errors.Is(err, oidcrp.ErrCodeRefused):
		return ErrSignInCode
	case errors.Is(err, oidcrp.ErrNonce):
		return ErrSignInNonce
	case errors.Is(err, oidcrp.ErrNoTaxCode):
		return ErrSignInTax
	case errors.Is(err, oidcrp.ErrBadToken):
		return ErrSignInToken
	case errors.Is(err, oidcrp.ErrUnavailable):
		return ErrSignInIdP
	}
	return err
}

// StartBy is Start for a session opened by (a method, a level of assurance).
func (s Service) StartBy(ctx context.Context, u store.UserView, by store.SessionSignIn) (token string, expires time.Time, err error) {
	token, tokenHash, err := auth.NewToken()
	if err != nil {
		return "", time.Time{}, err
	}
	if expires, err = s.API.CreateSessionBy(ctx, u.ID, tokenHash, s.SessionTTL, by); err != nil {
		return "", time.Time{}, err
	}
	return token, expires, s.API.TouchSession(ctx, tokenHash, s.Now())
}

// SignInOf tells how the session of hash was opened.
func (s Service) SignInOf(ctx context.Context, hash []byte) (store.SessionSignIn, error) {
	return s.API.SessionSignInOf(ctx, hash)
}
