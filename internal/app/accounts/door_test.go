package accounts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"sportello/internal/app"
	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// clock is a moved clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// door is the service on a fresh seeded database, with a moved clock.
func door(t *testing.T) (Service, *clock, *store.Store) {
	t.Helper()
	_, st := testenv.Postgres(t)
	now := &clock{t: time.Now()}
	if err := seed.Run(context.Background(), st, seed.Options{Demo: true, Now: now.Now()}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	core := &app.Core{Store: st, API: st.API(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now.Now}
	return New(core, Config{}), now, st
}

// A staff session ends after StaffIdleTimeout without a request, and is
// gone for good; a request within it keeps it alive; a citizen's has no
// idle timeout; logout ends a session.
func TestSessionsAndTheStaffIdleTimeout(t *testing.T) {
	s, now, _ := door(t)
	ctx := context.Background()
	start := func(username string) string {
		t.Helper()
		u, err := s.Login(ctx, Credentials{Username: " " + username + " ", Password: seed.DemoPassword}, "192.0.2.1")
		if err != nil {
			t.Fatalf("login %s: %v", username, err)
		}
		token, expires, err := s.Start(ctx, u)
		if err != nil || token == "" || !expires.After(now.Now()) {
			t.Fatalf("start %s: %q %v %v", username, token, expires, err)
		}
		return token
	}
	staff, citizen := start("operatore.tradate"), start("cittadino.tradate")

	now.Add(DefaultStaffIdleTimeout - time.Minute)
	if sess, err := s.Resolve(ctx, staff); err != nil || sess.User.Username != "operatore.tradate" || len(sess.Hash) == 0 {
		t.Fatalf("a staff session within the timeout: %+v %v", sess, err)
	}
	// The request above counts: the timeout starts again from it.
	now.Add(DefaultStaffIdleTimeout - time.Minute)
	if _, err := s.Resolve(ctx, staff); err != nil {
		t.Fatalf("a staff session used a moment ago: %v", err)
	}
	now.Add(DefaultStaffIdleTimeout + time.Second)
	if _, err := s.Resolve(ctx, staff); !errors.Is(err, ErrSessionIdle) {
		t.Fatalf("an idle staff session: %v, want ErrSessionIdle", err)
	}
	if _, err := s.Resolve(ctx, staff); !errors.Is(err, ErrNoSession) {
		t.Fatalf("an idle staff session after it ended: %v, want ErrNoSession", err)
	}

	// The citizen's session has been idle for an hour: it lives on.
	sess, err := s.Resolve(ctx, citizen)
	if err != nil {
		t.Fatalf("a citizen's idle session: %v", err)
	}
	if err := s.End(ctx, sess.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, citizen); !errors.Is(err, ErrNoSession) {
		t.Fatalf("a session after logout: %v, want ErrNoSession", err)
	}
	if _, err := s.Resolve(ctx, "not-a-token"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("an unknown token: %v, want ErrNoSession", err)
	}
}

// A wrong password and an unknown account get the same refusal; after the
// free failures the account is blocked (TooMany with a RetryAfter) even
// for the right password, and the throttled attempt is audited.
func TestLoginRefusalsAndThrottling(t *testing.T) {
	s, _, st := door(t)
	ctx := context.Background()
	for _, cr := range []Credentials{{"operatore.tradate", "wrong"}, {"nessuno.qui", "wrong"}} {
		if _, err := s.Login(ctx, cr, "192.0.2.2"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("login %s: %v, want ErrBadCredentials", cr.Username, err)
		}
	}
	var blocked *app.Error
	for i := 0; i < 10 && blocked == nil; i++ {
		_, err := s.Login(ctx, Credentials{"operatore.tradate", "wrong"}, "192.0.2.2")
		if ae := app.Classify(err); ae.Kind == app.TooMany {
			blocked = ae
		} else if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if blocked == nil || blocked.RetryAfter <= 0 || blocked.Code != "too_many_attempts" {
		t.Fatalf("the account is not throttled: %+v", blocked)
	}
	if _, err := s.Login(ctx, Credentials{"operatore.tradate", seed.DemoPassword}, "192.0.2.3"); app.Classify(err).Kind != app.TooMany {
		t.Fatalf("the right password while blocked: %v, want TooMany", err)
	}
	var n int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND district_id = 'tradate'`,
		AuditLoginThrottled).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no audit row for a throttled attempt")
	}
}
