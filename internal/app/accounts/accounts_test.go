package accounts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"sportello/internal/app"
	"sportello/internal/app/apptest"
	"sportello/internal/notify"
	"sportello/internal/store"
)

// newService is a service without a store: a use case that reached the
// store would panic, so these tests show what is decided before it.
func newService(mail Mailer, portal string, now time.Time) Service {
	core := &app.Core{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
	return New(core, Config{Mail: mail, PortalURL: portal})
}

func TestLoginRefusesMalformedCredentialsBeforeAnyAttempt(t *testing.T) {
	s := newService(nil, "", time.Now())
	cases := []struct {
		name string
		in   Credentials
		want []string
	}{
		{"empty", Credentials{}, []string{"/username required", "/password required"}},
		{"blank username", Credentials{Username: "  \t", Password: "x"}, []string{"/username required"}},
		{"too long", Credentials{Username: strings.Repeat("u", 201), Password: strings.Repeat("p", 1025)},
			[]string{"/username too_long", "/password too_long"}},
	}
	for _, c := range cases {
		_, err := s.Login(context.Background(), c.in, "192.0.2.1")
		ae := app.Classify(err)
		if ae.Kind != app.Invalid {
			t.Fatalf("%s: got %v, want field problems", c.name, err)
		}
		if got := apptest.Fields(t, ae.Fields); !slices.Equal(got, c.want) {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCredentialsCheckTrimsTheUsername(t *testing.T) {
	cr := Credentials{Username: "  mario.rossi ", Password: "x"}
	if fields := cr.Check(); len(fields) != 0 || cr.Username != "mario.rossi" {
		t.Fatalf("Check: %v, username %q", fields, cr.Username)
	}
}

func TestActivateRefusesMalformedRequestsBeforeAnyAttempt(t *testing.T) {
	s := newService(nil, "", time.Now())
	cases := []struct {
		name string
		in   Activation
		want []string
	}{
		{"empty", Activation{}, []string{"/username required", "/code required", "/password too_short"}},
		{"long code", Activation{Username: "mario", Code: strings.Repeat("A", 65), Password: "una-password-lunga-2026"},
			[]string{"/code required"}},
		{"password is the username", Activation{Username: " Mario.Rossi.1980 ", Code: "ABCD", Password: "mario.rossi.1980"},
			[]string{"/password"}},
	}
	for _, c := range cases {
		_, err := s.Activate(context.Background(), c.in, "192.0.2.1")
		ae := app.Classify(err)
		if ae.Kind != app.Invalid {
			t.Fatalf("%s: got %v, want field problems", c.name, err)
		}
		got := apptest.Fields(t, ae.Fields)
		if len(got) != len(c.want) {
			t.Fatalf("%s: fields %v, want %v", c.name, got, c.want)
		}
		for i := range got {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%s: fields %v, want %v", c.name, got, c.want)
			}
		}
	}
}

type fakeMailer struct {
	sent []notify.Message
	err  error
}

func (m *fakeMailer) Send(_ context.Context, msg notify.Message) error {
	m.sent = append(m.sent, msg)
	return m.err
}

func TestPasswordChangedMail(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	u := store.UserView{Username: "mario.rossi", DisplayName: "Mario Rossi", Email: "mario@example.org"}

	m := &fakeMailer{}
	newService(m, "https://sportello.example.org/", now).PasswordChanged(context.Background(), u)
	if len(m.sent) != 1 {
		t.Fatalf("sent %d e-mails, want 1", len(m.sent))
	}
	msg := m.sent[0]
	if msg.To != u.Email || msg.ToName != u.DisplayName || msg.Key != "password:mario.rossi:20261203T093000.000" {
		t.Errorf("addressed to %q %q with key %q", msg.To, msg.ToName, msg.Key)
	}
	if !strings.Contains(msg.Text, "https://sportello.example.org/login") || !strings.Contains(msg.Text, "mario.rossi") {
		t.Errorf("the e-mail lacks the login link or the username:\n%s", msg.Text)
	}

	// No address, or no mailer: nothing to send, nothing fails.
	m = &fakeMailer{}
	newService(m, "", now).PasswordChanged(context.Background(), store.UserView{Username: "x"})
	newService(nil, "", now).PasswordChanged(context.Background(), u)
	if len(m.sent) != 0 {
		t.Errorf("sent %d e-mails to a citizen without an address", len(m.sent))
	}

	// A failure to send is logged, not returned: the password is changed.
	m = &fakeMailer{err: errors.New("smtp down")}
	newService(m, "", now).PasswordChanged(context.Background(), u)
	if len(m.sent) != 1 {
		t.Errorf("sent %d e-mails, want 1 attempt", len(m.sent))
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1",
		1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %s, want %s", d, got, want)
		}
	}
	if err := errThrottled(90 * time.Second); err.Kind != app.TooMany || err.RetryAfter != 90*time.Second ||
		err.Message != "too many failed attempts: try again in 90 seconds" {
		t.Errorf("errThrottled: %+v", err)
	}
}
