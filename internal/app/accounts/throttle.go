package accounts

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"sportello/internal/app"
	"sportello/internal/store"
)

// throttleKeys are the counters of an attempt by username from addr.
func throttleKeys(accountKind, addressKind, username, addr string) (account, address store.ThrottleKey) {
	return store.ThrottleKey{Kind: accountKind, Value: strings.ToLower(strings.TrimSpace(username))},
		store.ThrottleKey{Kind: addressKind, Value: addr}
}

// throttled starts an attempt on the account and address keys: when one is
// blocked, the attempt is audited (action) and refused (TooMany).
func (s Service) throttled(ctx context.Context, action, username, addr string, keys ...store.ThrottleKey) error {
	now := s.Now()
	blocked, err := s.API.ThrottleAttempt(ctx, now, keys...)
	if err != nil || blocked == nil {
		return err
	}
	wait := blocked.Until.Sub(now)
	s.auditThrottled(ctx, action, username, addr, blocked, wait)
	return errThrottled(wait)
}

// refund takes back the charge of an attempt that was not one (the hash
// was busy, the caller gone).
func (s Service) refund(ctx context.Context, keys ...store.ThrottleKey) {
	if err := s.API.ThrottleSucceeded(context.WithoutCancel(ctx), nil, keys); err != nil {
		s.Log.WarnContext(ctx, "throttle refund", "err", err)
	}
}

// auditThrottled records a throttled attempt: in the account's district
// when the username is someone's, else without a district. The actor is
// anonymous; a failure to write is logged (the attempt was refused anyway).
func (s Service) auditThrottled(ctx context.Context, action, username, addr string, b *store.ThrottleBlocked, wait time.Duration) {
	e := store.AuditEntry{ActorUsername: "anonymous", ActorRole: "anonymous", Action: action,
		RequestID: app.RequestID(ctx), Detail: app.AuditDetail(map[string]any{
			"username": username, "address": addr, "blocked": b.Kind, "retry_after": retryAfterSeconds(wait)})}
	if u, _, err := s.API.UserForLogin(ctx, username); err == nil {
		e.District, e.Municipality = u.District, u.Municipality
	} else if !errors.Is(err, store.ErrNotFound) {
		s.Log.WarnContext(ctx, "audit throttled attempt", "action", action, "err", err)
		return
	}
	if err := s.API.Audit(ctx, store.System, e); err != nil {
		s.Log.WarnContext(ctx, "audit throttled attempt", "action", action, "err", err)
	}
}

// errThrottled is the answer to an attempt made while its account or
// client address is blocked after too many failures.
func errThrottled(wait time.Duration) *app.Error {
	return &app.Error{Kind: app.TooMany, Code: "too_many_attempts",
		Message: "too many failed attempts: try again in " + retryAfterSeconds(wait) + " seconds", RetryAfter: wait}
}

// retryAfterSeconds is d as a Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}
