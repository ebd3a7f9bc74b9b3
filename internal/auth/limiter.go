package auth

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// HashMemoryBytes is what one argon2id computation allocates (argonMemory KiB).
const HashMemoryBytes = argonMemory * 1024

// ErrBusy: too many password checks are running or waiting; the caller
// should answer 503 with a Retry-After instead of queueing.
var ErrBusy = errors.New("auth: too many password checks at once")

// Limiter bounds how many password hashes (HashPassword, CheckPassword) run
// at once, so that a burst of logins cannot take the process past its
// memory limit: each argon2id computation holds about 19 MiB. Requests
// beyond the bound wait for a slot, at most MaxWait and never past their
// context; when MaxWaiting are already waiting, waiting is hopeless and Do
// answers ErrBusy at once.
type Limiter struct {
	slots      chan struct{}
	maxWaiting int64
	maxWait    time.Duration
	waiting    atomic.Int64
	active     atomic.Int64
	peak       atomic.Int64
	completed  atomic.Int64
}

// DefaultHashConcurrency is the bound used when none is configured: one
// hash per processor the Go scheduler uses (GOMAXPROCS, which follows the
// container's CPU limit), at least 2.
func DefaultHashConcurrency() int { return max(2, runtime.GOMAXPROCS(0)) }

// NewLimiter lets n hashes run at once (DefaultHashConcurrency when n <= 0)
// and at most maxWaiting more wait (8 per slot when maxWaiting <= 0), each
// at most maxWait (5 s when <= 0).
func NewLimiter(n, maxWaiting int, maxWait time.Duration) *Limiter {
	if n <= 0 {
		n = DefaultHashConcurrency()
	}
	if maxWaiting <= 0 {
		maxWaiting = 8 * n
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	return &Limiter{slots: make(chan struct{}, n), maxWaiting: int64(maxWaiting), maxWait: maxWait}
}

// Size is the number of hashes that may run at once.
func (l *Limiter) Size() int { return cap(l.slots) }

// Peak is the highest number of hashes that ran at once so far.
func (l *Limiter) Peak() int { return int(l.peak.Load()) }

// Do runs f (a password hash or check) when a slot is free. It returns
// ErrBusy when too many are waiting or the wait exceeds MaxWait, and the
// context's error when ctx ends first; f has not run then.
func (l *Limiter) Do(ctx context.Context, f func()) error {
	select {
	case l.slots <- struct{}{}:
	default:
		if l.waiting.Add(1) > l.maxWaiting {
			l.waiting.Add(-1)
			return ErrBusy
		}
		t := time.NewTimer(l.maxWait)
		select {
		case l.slots <- struct{}{}:
			l.waiting.Add(-1)
			t.Stop()
		case <-t.C:
			l.waiting.Add(-1)
			return ErrBusy
		case <-ctx.Done():
			l.waiting.Add(-1)
			t.Stop()
			return ctx.Err()
		}
	}
	defer func() { <-l.slots }()
	n := l.active.Add(1)
	defer l.active.Add(-1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f()
	l.completed.Add(1)
	return nil
}

// Completed is the number of hashes run so far.
func (l *Limiter) Completed() int { return int(l.completed.Load()) }

// CheckPassword is auth.CheckPassword within the bound.
func (l *Limiter) CheckPassword(ctx context.Context, encoded, password string) (bool, error) {
	var ok bool
	err := l.Do(ctx, func() { ok = CheckPassword(encoded, password) })
	return ok, err
}

// HashPassword is auth.HashPassword within the bound.
func (l *Limiter) HashPassword(ctx context.Context, password string) (string, error) {
	var (
		h    string
		herr error
	)
	if err := l.Do(ctx, func() { h, herr = HashPassword(password) }); err != nil {
		return "", err
	}
	return h, herr
}

// Waiting is the number of callers waiting for a slot now.
func (l *Limiter) Waiting() int { return int(l.waiting.Load()) }
