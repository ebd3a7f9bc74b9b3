package accounts

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"sportello/internal/app"
	"sportello/internal/contract"
	"sportello/internal/notify"
	"sportello/internal/seed"
)

// inbox is a Mailer that keeps what it is given.
type inbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (in *inbox) Send(_ context.Context, m notify.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs = append(in.msgs, m)
	return nil
}

func (in *inbox) all() []notify.Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]notify.Message(nil), in.msgs...)
}

// outboxInbox is an outbox.Mailer that renders the template and hands the
// message to an inbox.
type outboxInbox struct{ in *inbox }

func (o outboxInbox) Send(ctx context.Context, to, toName, kind, lang, key string, data map[string]any) (string, error) {
	msg, err := notify.Render(kind, lang, data)
	if err != nil {
		return "", err
	}
	msg.To, msg.ToName, msg.Key = to, toName, key
	return msg.Subject, o.in.Send(ctx, msg)
}

func (outboxInbox) Permanent(error) bool { return false }

var resetLink = regexp.MustCompile(`http://portal\.test/password/reset\?token=([A-Za-z0-9_%-]+)`)

// tokenOf is the token of the reset link in msg.
func tokenOf(t *testing.T, msg notify.Message) string {
	t.Helper()
	m := resetLink.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no reset link in:\n%s", msg.Text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A reset link: the same answer for an unknown account, one without
// e-mail and a real one; only the real one gets an e-mail; the link works
// once, ends every session, is revoked by a newer one, expires after
// ResetTTL; requests are throttled per account.
func TestPasswordResetByEmail(t *testing.T) {
	s, now, _ := door(t)
	mail := &inbox{}
	s.Mail, s.PortalURL = mail, "http://portal.test"
	// The worker's part, in line: DeliverReset e-mails through the outbox.
	s.queueReset = func(ctx context.Context, in contract.PasswordResetMail) error {
		return s.DeliverReset(ctx, in, outboxInbox{mail})
	}
	ctx := context.Background()

	for _, who := range []string{"nobody.here", "CITTADINO.TRADATE"} {
		if err := s.RequestReset(ctx, ResetRequest{Username: who}, "192.0.2.1"); err != nil {
			t.Fatalf("request %s: %v", who, err)
		}
	}
	msgs := mail.all()
	if len(msgs) != 1 || msgs[0].To != "maria.rossi@example.org" {
		t.Fatalf("e-mails: %+v", msgs)
	}
	first := tokenOf(t, msgs[0])
	if err := s.RequestReset(ctx, ResetRequest{Username: ""}, "192.0.2.1"); kindOf(err) != app.Invalid {
		t.Fatalf("empty username: %v", err)
	}

	// A session open before the reset.
	u, err := s.Login(ctx, Credentials{Username: "cittadino.tradate", Password: seed.DemoPassword}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := s.Start(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	// A second request revokes the first link.
	if err := s.RequestReset(ctx, ResetRequest{Username: "cittadino.tradate"}, "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	second := tokenOf(t, mail.all()[1])
	if live, _ := s.ResetLinkLive(ctx, first); live {
		t.Fatal("the first link is live after a second request")
	}
	if _, err := s.ResetPassword(ctx, NewPassword{Token: first, Password: "una-nuova-password-1"}); !fieldRefused(err, "/token") {
		t.Fatalf("revoked link: %v", err)
	}
	if _, err := s.ResetPassword(ctx, NewPassword{Token: second, Password: "short"}); !fieldRefused(err, "/password") {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := s.ResetPassword(ctx, NewPassword{Token: second, Password: "una-nuova-password-1"}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if _, err := s.Resolve(ctx, old); !errors.Is(err, ErrNoSession) {
		t.Fatalf("the old session survived the reset: %v", err)
	}
	if _, err := s.Login(ctx, Credentials{Username: "cittadino.tradate", Password: "una-nuova-password-1"}, "192.0.2.1"); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if _, err := s.ResetPassword(ctx, NewPassword{Token: second, Password: "un-altra-password-2"}); !fieldRefused(err, "/token") {
		t.Fatalf("link used twice: %v", err)
	}
	if n := len(mail.all()); n != 3 || mail.all()[2].Subject == mail.all()[1].Subject {
		t.Fatalf("want the password-changed e-mail after the reset, got %d e-mails", n)
	}

	// Expiry: a link older than ResetTTL is dead.
	now.Add(2 * time.Hour) // past the throttle's back-off
	if err := s.RequestReset(ctx, ResetRequest{Username: "operatore.tradate"}, "192.0.2.3"); err != nil {
		t.Fatal(err)
	}
	late := tokenOf(t, mail.all()[len(mail.all())-1])
	now.Add(DefaultResetTTL + time.Second)
	if live, _ := s.ResetLinkLive(ctx, late); live {
		t.Fatal("a link older than ResetTTL is live")
	}
	if _, err := s.ResetPassword(ctx, NewPassword{Token: late, Password: "una-nuova-password-1"}); !fieldRefused(err, "/token") {
		t.Fatalf("expired link: %v", err)
	}

	// Throttled: a few requests per account, then TooMany for a while,
	// alike for an account that does not exist.
	for _, who := range []string{"supervisore", "nessuno.davvero"} {
		var refused error
		for i := 0; i < 6 && refused == nil; i++ {
			refused = s.RequestReset(ctx, ResetRequest{Username: who}, "192.0.2."+string(rune('4'+i)))
		}
		if kindOf(refused) != app.TooMany {
			t.Fatalf("%s: requests not throttled: %v", who, refused)
		}
	}
}

// kindOf is the kind of a refusal (Internal for anything else).
func kindOf(err error) app.Kind {
	var ae *app.Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return app.Internal
}

func fieldRefused(err error, pointer string) bool {
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Kind != app.Invalid {
		return false
	}
	for _, f := range ae.Fields {
		if f.Pointer == pointer {
			return true
		}
	}
	return false
}
