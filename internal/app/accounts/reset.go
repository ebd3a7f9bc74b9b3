package accounts

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"sportello/internal/app"
	"sportello/internal/auth"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/outbox"
	"sportello/internal/store"
	"sportello/workflows"
)

// Password reset by e-mail (issue 16). Anyone may ask a link for a
// username; the answer is the same whether or not the account exists (and
// has an e-mail address). The link is single-use, lives ResetTTL, is kept
// only as a hash, and a new one revokes the previous; requests are
// throttled per username and per client address (every request counts).
// Choosing the new password through it ends every session of the account.
// Citizens without e-mail recover their account at the desk (desk.ReissueCode).

// DefaultResetTTL is how long a reset link lives.
const DefaultResetTTL = 30 * time.Minute

// AuditResetThrottled: a request of a reset link refused as too many.
const AuditResetThrottled = "password_reset_throttled"

// ResetPath is the portal's page of a reset link (the token in ?token=).
const ResetPath = "/password/reset"

// ResetRequest is the form of a reset link's request.
type ResetRequest struct {
	Username string `json:"username"`
}

// Check trims the username and lists its problems (pointer /username).
func (r *ResetRequest) Check() []app.FieldError {
	r.Username = strings.ToLower(strings.TrimSpace(r.Username))
	if r.Username == "" {
		return []app.FieldError{app.Field("/username", "required", "accounts.err.username_required")}
	}
	if len(r.Username) > 200 {
		return []app.FieldError{app.Field("/username", "too_long", "accounts.err.username_too_long")}
	}
	return nil
}

// RequestReset sends a reset link to the e-mail of r's account, if it has
// one, from client address addr. It answers nil alike for an account that
// does not exist, that waits for activation or that has no e-mail; only
// the shape of the request and throttling are refused.
func (s Service) RequestReset(ctx context.Context, r ResetRequest, addr string) error {
	if fields := r.Check(); len(fields) > 0 {
		return app.InvalidInput(fields...)
	}
	account, address := throttleKeys(store.ThrottleResetAccount, store.ThrottleResetAddress, r.Username, addr)
	if err := s.throttled(ctx, AuditResetThrottled, r.Username, addr, account, address); err != nil {
		return err
	}
	// Queued, not sent: the answer takes the same path whether or not the
	// account exists (no lookup, no SMTP conversation here); the worker
	// makes the link and e-mails it (DeliverReset).
	in := contract.PasswordResetMail{Request: uuid.NewString(), Username: r.Username, RequestedAt: s.Now().UTC()}
	if s.queueReset != nil {
		return s.queueReset(ctx, in)
	}
	return s.StartOnce(ctx, contract.PasswordResetWorkflowID(in.Request), workflows.PasswordResetMail, in)
}

// DeliverReset makes the reset link of in's account and e-mails it through
// the outbox with mailer (the worker's activity): nothing for an account
// that does not exist, waits for activation or has no e-mail. A retry
// makes a new link, which revokes the previous one, and sends it unless
// the outbox says the request's e-mail was sent.
func (s Service) DeliverReset(ctx context.Context, in contract.PasswordResetMail, mailer outbox.Mailer) error {
	token, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := s.Now()
	u, err := s.API.CreatePasswordReset(ctx, in.Username, hash, now, s.ResetTTL)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	origin := strings.TrimRight(s.PortalURL, "/")
	data := map[string]any{"name": u.DisplayName, "portal_url": origin + "/", "path": "/login", "username": u.Username,
		"reset_url":    origin + ResetPath + "?token=" + url.QueryEscape(token),
		"requested_at": in.RequestedAt, "expires_at": now.Add(s.ResetTTL)}
	entry := store.OutboxEntry{Key: "reset:" + in.Request,
		Kind: notify.KindPasswordReset, Channel: "email", Recipient: u.Email, Lang: "it"}
	return outbox.SendOnce(ctx, s.Store, mailer, entry, u.DisplayName, data)
}

// ResetLinkLive tells whether token is a live reset link.
func (s Service) ResetLinkLive(ctx context.Context, token string) (bool, error) {
	if token == "" || len(token) > 256 {
		return false, nil
	}
	return s.API.PasswordResetLive(ctx, auth.TokenHash(token), s.Now())
}

// NewPassword is the form of a reset link: its token and the new password.
type NewPassword struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// ResetPassword chooses the new password through a reset link: problems
// are field problems (pointers /token for a link that is unknown, used or
// expired, /password for the password policy). Every session of the
// account ends; the citizen is told by e-mail.
func (s Service) ResetPassword(ctx context.Context, in NewPassword) (store.UserView, error) {
	var fields []app.FieldError
	if in.Token == "" || len(in.Token) > 256 {
		fields = append(fields, app.Field("/token", "invalid_link", "accounts.err.reset_link"))
	}
	if code, text, ok := auth.PasswordProblem(in.Password, ""); !ok {
		fields = append(fields, app.FieldError{Pointer: "/password", Code: code, Text: text})
	}
	if len(fields) > 0 {
		return store.UserView{}, app.InvalidInput(fields...)
	}
	hash, err := s.Hashing.HashPassword(ctx, in.Password)
	if err != nil {
		return store.UserView{}, err
	}
	u, err := s.API.ResetPassword(ctx, auth.TokenHash(in.Token), hash, s.Now())
	if errors.Is(err, store.ErrResetInvalid) {
		return u, app.InvalidInput(app.Field("/token", "invalid_link", "accounts.err.reset_link"))
	}
	if err != nil {
		return u, err
	}
	s.PasswordChanged(ctx, u)
	return u, nil
}
