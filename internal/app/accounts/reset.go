package accounts

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"sportello/internal/app"
	"sportello/internal/auth"
	"sportello/internal/notify"
	"sportello/internal/store"
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
	token, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := s.Now()
	u, err := s.API.CreatePasswordReset(ctx, r.Username, hash, now, s.ResetTTL)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.sendReset(ctx, u, token, now)
	return nil
}

// sendReset e-mails the link; a failure is logged (the answer stays the
// same, the citizen may ask again).
func (s Service) sendReset(ctx context.Context, u store.UserView, token string, now time.Time) {
	if s.Mail == nil {
		s.Log.WarnContext(ctx, "password reset e-mail not sent: no mailer", "user", u.Username)
		return
	}
	origin := strings.TrimRight(s.PortalURL, "/")
	link := origin + ResetPath + "?token=" + url.QueryEscape(token)
	msg, err := notify.Render(notify.KindPasswordReset, "it", map[string]any{"name": u.DisplayName,
		"portal_url": origin + "/", "path": "/login", "username": u.Username, "reset_url": link,
		"requested_at": now, "expires_at": now.Add(s.ResetTTL)})
	if err == nil {
		msg.To, msg.ToName, msg.Key = u.Email, u.DisplayName, "reset:"+u.Username+":"+now.Format("20060102T150405.000")
		err = s.Mail.Send(ctx, msg)
	}
	if err != nil {
		s.Log.WarnContext(ctx, "password reset e-mail not sent", "user", u.Username, "err", err)
	}
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
