package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"sportello/internal/store"
)

// The door (issue 10): logins and activations are throttled per account and
// per client address (store.ThrottleAttempt: exponential back-off shared by
// every replica, 429 with Retry-After, each throttled attempt audited);
// password hashes run within s.hashing; staff sessions end when idle.

const (
	// staffIdleTimeout ends a staff session after this long without a request.
	staffIdleTimeout = 30 * time.Minute
	// sessionTouchEvery: the last request of a session is written at most
	// this often (an idle timeout does not need a write per request).
	sessionTouchEvery = time.Minute
)

// Audit actions of the door.
const (
	auditLoginThrottled      = "login_throttled"
	auditActivationThrottled = "activation_throttled"
)

// throttleKeys are the counters of an attempt by username from addr.
func throttleKeys(accountKind, addressKind, username, addr string) (account, address store.ThrottleKey) {
	return store.ThrottleKey{Kind: accountKind, Value: strings.ToLower(strings.TrimSpace(username))},
		store.ThrottleKey{Kind: addressKind, Value: addr}
}

// throttled starts an attempt on the account and address keys: when one is
// blocked, the attempt is audited (action) and refused with a 429.
func (s *server) throttled(ctx context.Context, action, username, addr string, keys ...store.ThrottleKey) error {
	now := s.Now()
	blocked, err := s.api.ThrottleAttempt(ctx, now, keys...)
	if err != nil || blocked == nil {
		return err
	}
	wait := blocked.Until.Sub(now)
	s.auditThrottled(ctx, action, username, addr, blocked, wait)
	return errThrottled(wait)
}

// auditThrottled records a throttled attempt: in the account's district
// when the username is someone's, else without a district. The actor is
// anonymous; a failure to write is logged (the attempt was refused anyway).
func (s *server) auditThrottled(ctx context.Context, action, username, addr string, b *store.ThrottleBlocked, wait time.Duration) {
	e := store.AuditEntry{ActorUsername: "anonymous", ActorRole: "anonymous", Action: action,
		RequestID: requestIDFrom(ctx), Detail: auditDetail(map[string]any{
			"username": username, "address": addr, "blocked": b.Kind, "retry_after": retryAfterSeconds(wait)})}
	if u, _, err := s.api.UserForLogin(ctx, username); err == nil {
		e.District, e.Municipality = u.District, u.Municipality
	} else if !errors.Is(err, store.ErrNotFound) {
		s.log.WarnContext(ctx, "audit throttled attempt", "action", action, "err", err)
		return
	}
	if err := s.api.Audit(ctx, store.System, e); err != nil {
		s.log.WarnContext(ctx, "audit throttled attempt", "action", action, "err", err)
	}
}

// passwordLogin checks username and password from addr: throttled, the
// hash within its bound, the same answer (401 invalid_credentials) for an
// unknown account, a wrong password and an account that cannot log in.
func (s *server) passwordLogin(ctx context.Context, username, password, addr string) (store.UserView, error) {
	account, address := throttleKeys(store.ThrottleLoginAccount, store.ThrottleLoginAddress, username, addr)
	if err := s.throttled(ctx, auditLoginThrottled, username, addr, account, address); err != nil {
		return store.UserView{}, err
	}
	u, ok, err := s.checkCredentials(ctx, username, password)
	if err != nil {
		// Not an attempt at all (busy, gone): its charge is taken back.
		if rerr := s.api.ThrottleSucceeded(context.WithoutCancel(ctx), nil, []store.ThrottleKey{account, address}); rerr != nil {
			s.log.WarnContext(ctx, "throttle refund", "err", rerr)
		}
		return store.UserView{}, err
	}
	if !ok {
		return store.UserView{}, errBadCredentials
	}
	if err := s.api.ThrottleSucceeded(ctx, []store.ThrottleKey{account}, []store.ThrottleKey{address}); err != nil {
		return store.UserView{}, err
	}
	return u, nil
}

// errSessionIdle: a staff session unused for too long.
var errSessionIdle = newError(http.StatusUnauthorized, "session_idle", "the session ended after a time without activity; log in again")

// sessionIdle applies the staff idle timeout to a live session: it reports
// whether the session has just ended for it; otherwise the request is
// noted (at most once per sessionTouchEvery). Citizens have no idle timeout.
func (s *server) sessionIdle(c *gin.Context, u store.UserView, hash []byte, t store.SessionTimes) (bool, error) {
	if u.Role == roleCitizen {
		return false, nil
	}
	ctx := c.Request.Context()
	now := s.Now()
	idle := now.Sub(t.LastSeen)
	if idle > s.StaffIdleTimeout {
		s.log.InfoContext(ctx, "idle session ended", "request_id", requestID(c), "user_id", u.ID, "idle", idle.Round(time.Second))
		return true, s.api.DeleteSession(ctx, hash)
	}
	if idle >= sessionTouchEvery {
		return false, s.api.TouchSession(ctx, hash, now)
	}
	return false, nil
}
