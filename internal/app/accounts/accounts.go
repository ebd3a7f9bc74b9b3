// Package accounts is the door of Sportello: logging in with a username
// and a password, the sessions that follow (created, resolved from their
// token, ended when a staff member leaves them idle, ended at logout), the
// activation of an account with a one-time code (which chooses its
// password) and the e-mail that tells the citizen their password changed.
//
// Logins and activations are throttled per account and per client address
// (store.ThrottleAttempt: exponential back-off shared by every replica, a
// TooMany refusal with RetryAfter, each throttled attempt audited);
// password hashes run within a bounded number at once (auth.Limiter). The
// JSON API (api/session.go, api/desk.go) and the pages (login, /attiva)
// only decode their input and show the result.
package accounts

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"sportello/internal/app"
	"sportello/internal/auth"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/store"
)

// Audit actions of the door.
const (
	AuditLoginThrottled      = "login_throttled"
	AuditActivationThrottled = "activation_throttled"
)

const (
	// DefaultSessionTTL is the lifetime of a session.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultStaffIdleTimeout ends a staff session after this long without
	// a request.
	DefaultStaffIdleTimeout = 30 * time.Minute
	// sessionTouchEvery: the last request of a session is written at most
	// this often (an idle timeout does not need a write per request).
	sessionTouchEvery = time.Minute
)

// Mailer sends the account notices (a changed password); *notify.Mailer is one.
type Mailer interface {
	Send(ctx context.Context, msg notify.Message) error
}

// Config is what the door needs besides the core.
type Config struct {
	// Hashing bounds concurrent password hashes; nil: auth.NewLimiter with
	// the default size.
	Hashing *auth.Limiter
	// Mail sends the "password changed" e-mail; nil: none is sent.
	Mail Mailer
	// PortalURL is the portal's public address, for the links in e-mails.
	PortalURL string
	// SessionTTL is the lifetime of a session (DefaultSessionTTL when zero).
	SessionTTL time.Duration
	// StaffIdleTimeout ends a staff session after this long without a
	// request (DefaultStaffIdleTimeout when zero); citizens have none.
	StaffIdleTimeout time.Duration
	// IdP is the relying party of the SPID/CIE-style sign-in (signin.go);
	// nil: not configured, the sign-in is off.
	IdP IdentityProvider
	// ResetTTL is how long a password reset link lives (DefaultResetTTL
	// when zero; reset.go).
	ResetTTL time.Duration
}

// Service does the door's use cases.
type Service struct {
	*app.Core
	Config
	// queueReset replaces the start of the reset e-mail's workflow in
	// this package's tests (which run no worker); nil: the workflow.
	queueReset func(ctx context.Context, in contract.PasswordResetMail) error
}

// New returns the accounts service on core.
func New(core *app.Core, cfg Config) Service {
	if cfg.Hashing == nil {
		cfg.Hashing = auth.NewLimiter(0, 0, 0)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.StaffIdleTimeout <= 0 {
		cfg.StaffIdleTimeout = DefaultStaffIdleTimeout
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = DefaultResetTTL
	}
	return Service{Core: core, Config: cfg}
}

// The refusals of the door.
var (
	// ErrBadCredentials: an unknown account, a wrong password or an account
	// that cannot log in, all alike.
	ErrBadCredentials = app.Refuse(app.Unauthenticated, "invalid_credentials", "wrong username or password")
	// ErrSessionIdle: a staff session unused for too long (it has ended).
	ErrSessionIdle = app.Refuse(app.Unauthenticated, "session_idle", "the session ended after a time without activity; log in again")
	// ErrNoSession: the token is nobody's session (unknown or expired).
	ErrNoSession = app.Refuse(app.Unauthenticated, "unauthenticated", "the session is unknown or has expired; log in again")
)

// Credentials are what a login posts.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Check trims the username and lists the problems of the credentials'
// shape (pointers /username and /password).
func (cr *Credentials) Check() []app.FieldError {
	cr.Username = strings.TrimSpace(cr.Username)
	var fields []app.FieldError
	if cr.Username == "" {
		fields = append(fields, app.Field("/username", "required", "accounts.err.username_required"))
	} else if len(cr.Username) > 200 {
		fields = append(fields, app.Field("/username", "too_long", "accounts.err.username_too_long"))
	}
	if cr.Password == "" {
		fields = append(fields, app.Field("/password", "required", "accounts.err.password_required"))
	} else if len(cr.Password) > 1024 {
		fields = append(fields, app.Field("/password", "too_long", "auth.err.password_too_long"))
	}
	return fields
}

// Login checks cr from client address addr: field problems first, then
// throttled, the hash within its bound, the same answer (ErrBadCredentials)
// for an unknown account, a wrong password and an account that cannot log
// in. It returns the user; Start gives them a session.
func (s Service) Login(ctx context.Context, cr Credentials, addr string) (store.UserView, error) {
	if fields := cr.Check(); len(fields) > 0 {
		return store.UserView{}, app.InvalidInput(fields...)
	}
	account, address := throttleKeys(store.ThrottleLoginAccount, store.ThrottleLoginAddress, cr.Username, addr)
	if err := s.throttled(ctx, AuditLoginThrottled, cr.Username, addr, account, address); err != nil {
		return store.UserView{}, err
	}
	u, ok, err := s.checkCredentials(ctx, cr.Username, cr.Password)
	if err != nil {
		// Not an attempt at all (busy, gone): its charge is taken back.
		s.refund(ctx, account, address)
		return store.UserView{}, err
	}
	if !ok {
		return store.UserView{}, ErrBadCredentials
	}
	if err := s.API.ThrottleSucceeded(ctx, []store.ThrottleKey{account}, []store.ThrottleKey{address}); err != nil {
		return store.UserView{}, err
	}
	return u, nil
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// dummyPasswordHash is checked against when the username is unknown, so that
// a login takes as long for an unknown user as for a wrong password.
func dummyPasswordHash() string {
	dummyOnce.Do(func() {
		h, err := auth.HashPassword("sportello-dummy-password")
		if err == nil {
			dummyHash = h
		}
	})
	return dummyHash
}

// checkCredentials reports whether password is username's, the hash run
// within s.Hashing. An unknown user, or one who cannot log in (waiting for
// activation: no usable hash), costs the same hash computation as a known
// one and gets the same answer, so neither the answer nor its timing tells
// which accounts exist.
func (s Service) checkCredentials(ctx context.Context, username, password string) (store.UserView, bool, error) {
	u, hash, err := s.API.UserForLogin(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && hash == "":
		_, err := s.Hashing.CheckPassword(ctx, dummyPasswordHash(), password)
		return store.UserView{}, false, err
	case err != nil:
		return store.UserView{}, false, err
	}
	ok, err := s.Hashing.CheckPassword(ctx, hash, password)
	if err != nil || !ok {
		return store.UserView{}, false, err
	}
	return u, true, nil
}

// Start stores a fresh session for u and returns its token (a bearer token
// for the API, the cookie's value for the pages).
func (s Service) Start(ctx context.Context, u store.UserView) (token string, expires time.Time, err error) {
	// The idle timeout counts from now on the service's clock.
	return s.StartBy(ctx, u, store.SessionSignIn{Method: store.SessionPassword})
}

// Session is a live session: its user and the hash of its token.
type Session struct {
	User store.UserView
	Hash []byte
}

// Resolve finds the live session of token. A staff session left idle for
// longer than StaffIdleTimeout ends here (ErrSessionIdle); otherwise its
// request is noted (at most once per sessionTouchEvery). An unknown or
// expired token is ErrNoSession. Citizens have no idle timeout.
func (s Service) Resolve(ctx context.Context, token string) (Session, error) {
	hash := auth.TokenHash(token)
	u, times, err := s.API.SessionUser(ctx, hash)
	if err == nil {
		err = s.idle(ctx, u, hash, times)
	}
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	return Session{User: u, Hash: hash}, nil
}

// idle applies the staff idle timeout to a live session.
func (s Service) idle(ctx context.Context, u store.UserView, hash []byte, t store.SessionTimes) error {
	if contract.Role(u.Role) == contract.RoleCitizen {
		return nil
	}
	now := s.Now()
	idle := now.Sub(t.LastSeen)
	if idle > s.StaffIdleTimeout {
		s.Log.InfoContext(ctx, "idle session ended", "request_id", app.RequestID(ctx), "user_id", u.ID, "idle", idle.Round(time.Second))
		if err := s.API.DeleteSession(ctx, hash); err != nil {
			return err
		}
		return ErrSessionIdle
	}
	if idle >= sessionTouchEvery {
		return s.API.TouchSession(ctx, hash, now)
	}
	return nil
}

// End ends the session whose token hash is hash (logout).
func (s Service) End(ctx context.Context, hash []byte) error {
	return s.API.DeleteSession(ctx, hash)
}

// EndToken ends the session of token, if it is one (a browser that logs in
// again leaves its old session behind).
func (s Service) EndToken(ctx context.Context, token string) error {
	return s.End(ctx, auth.TokenHash(token))
}

// Activation is an account's activation: the body of POST
// /api/v1/activation and the /attiva page.
type Activation struct {
	Username string `json:"username"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

// Check normalizes the username and lists the problems of the
// activation's shape (pointers /username, /code, /password).
func (a *Activation) Check() []app.FieldError {
	a.Username = strings.ToLower(strings.TrimSpace(a.Username))
	var fields []app.FieldError
	if a.Username == "" || len(a.Username) > 200 {
		fields = append(fields, app.Field("/username", "required", "accounts.err.username_required"))
	}
	if strings.TrimSpace(a.Code) == "" || len(a.Code) > 64 {
		fields = append(fields, app.Field("/code", "required", "accounts.err.code_required"))
	}
	if code, text, ok := auth.PasswordProblem(a.Password, a.Username); !ok {
		fields = append(fields, app.FieldError{Pointer: "/password", Code: code, Text: text})
	}
	return fields
}

// Activate checks an activation from client address addr and activates
// the account with the chosen password; the citizen is told by e-mail.
// Problems are field problems with pointers /username, /code, /password.
// A code that does not work gets one answer whatever the reason (unknown
// username, wrong, used or expired code), so the answer tells nobody which
// usernames wait for activation; wrong attempts are throttled per username
// and per client address instead of locking the code, so a stranger cannot
// lock the citizen out.
func (s Service) Activate(ctx context.Context, a Activation, addr string) (store.UserView, error) {
	if fields := a.Check(); len(fields) > 0 {
		return store.UserView{}, app.InvalidInput(fields...)
	}
	account, address := throttleKeys(store.ThrottleActivationAccount, store.ThrottleActivationAddress, a.Username, addr)
	if err := s.throttled(ctx, AuditActivationThrottled, a.Username, addr, account, address); err != nil {
		return store.UserView{}, err
	}
	hash, err := s.Hashing.HashPassword(ctx, a.Password)
	if err != nil {
		// Not an attempt at all (busy, gone): its charge is taken back.
		s.refund(ctx, account, address)
		return store.UserView{}, err
	}
	u, err := s.API.Activate(ctx, a.Username, a.Code, hash, s.Now())
	if err == nil {
		s.PasswordChanged(ctx, u)
	}
	if errors.Is(err, store.ErrActivationInvalid) || errors.Is(err, store.ErrActivationUsed) ||
		errors.Is(err, store.ErrActivationExpired) {
		return u, app.InvalidInput(app.Field("/code", "invalid_code", "accounts.err.invalid_code"))
	}
	if err != nil {
		return u, err
	}
	return u, s.API.ThrottleSucceeded(ctx, []store.ThrottleKey{account}, []store.ThrottleKey{address})
}

// PasswordChanged e-mails the citizen that their password was chosen
// (activation or recovery). The change is made already: a failure is logged.
func (s Service) PasswordChanged(ctx context.Context, u store.UserView) {
	if u.Email == "" || s.Mail == nil {
		return
	}
	origin := strings.TrimRight(s.PortalURL, "/")
	if origin == "" {
		origin = "/"
	}
	now := s.Now()
	msg, err := notify.Render(notify.KindPasswordChanged, "it", map[string]any{"name": u.DisplayName,
		"portal_url": origin, "path": "/login", "username": u.Username, "changed_at": now})
	if err == nil {
		msg.To, msg.ToName, msg.Key = u.Email, u.DisplayName, "password:"+u.Username+":"+now.Format("20060102T150405.000")
		err = s.Mail.Send(ctx, msg)
	}
	if err != nil {
		s.Log.WarnContext(ctx, "password-changed e-mail not sent", "user", u.Username, "err", err)
	}
}
