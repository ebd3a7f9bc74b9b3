package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// ErrPermanent marks a failure that retrying cannot fix: the server refused
// the sender, the recipient or the message with a 5xx reply, or the message
// itself is invalid (no or malformed recipient address). Test it with
// errors.Is; every other error from Send is transient.
var ErrPermanent = errors.New("notify: permanent delivery failure")

// Config is the SMTP configuration of a Mailer.
type Config struct {
	Host     string
	Port     int
	From     string // envelope and header sender address
	FromName string // display name of the sender
	Username string // SMTP AUTH (empty: no authentication)
	Password string
	// TLS is "none" (the local catcher), "starttls" (mandatory STARTTLS) or
	// "tls" (implicit TLS, usually port 465).
	TLS string
	// Timeout bounds the dial and every SMTP command (default 10s).
	Timeout time.Duration
}

// Defaults of ConfigFromEnv.
const (
	DefaultHost     = "127.0.0.1"
	DefaultPort     = 1025
	DefaultFrom     = "sportello@ambito-tradate.example"
	DefaultFromName = "Sportello sociale"
	DefaultTimeout  = 10 * time.Second
)

// ConfigFromEnv reads SPORTELLO_SMTP_HOST (default 127.0.0.1),
// SPORTELLO_SMTP_PORT (1025), SPORTELLO_SMTP_FROM
// (sportello@ambito-tradate.example), SPORTELLO_SMTP_FROM_NAME (Sportello
// sociale), SPORTELLO_SMTP_USERNAME, SPORTELLO_SMTP_PASSWORD and
// SPORTELLO_SMTP_TLS (none, starttls or tls; default none). An unparseable
// port is kept as -1 so that NewMailer reports it.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	port, err := strconv.Atoi(get("SPORTELLO_SMTP_PORT", strconv.Itoa(DefaultPort)))
	if err != nil {
		port = -1
	}
	return Config{
		Host:     get("SPORTELLO_SMTP_HOST", DefaultHost),
		Port:     port,
		From:     get("SPORTELLO_SMTP_FROM", DefaultFrom),
		FromName: get("SPORTELLO_SMTP_FROM_NAME", DefaultFromName),
		Username: get("SPORTELLO_SMTP_USERNAME", ""),
		Password: getenv("SPORTELLO_SMTP_PASSWORD"),
		TLS:      strings.ToLower(get("SPORTELLO_SMTP_TLS", "none")),
		Timeout:  DefaultTimeout,
	}
}

// Mailer sends Messages over SMTP, one connection per Send. It is safe for
// concurrent use.
type Mailer struct {
	cfg    Config
	client *mail.Client
}

// NewMailer checks cfg and prepares the SMTP client; it does not connect.
func NewMailer(cfg Config) (*Mailer, error) {
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("notify: invalid SMTP port %d (SPORTELLO_SMTP_PORT)", cfg.Port)
	}
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TLS == "" {
		cfg.TLS = "none"
	}
	// Check the sender address once, here, rather than on every Send.
	if err := mail.NewMsg().FromFormat(cfg.FromName, cfg.From); err != nil {
		return nil, fmt.Errorf("notify: invalid sender %q (SPORTELLO_SMTP_FROM): %w", cfg.From, err)
	}
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithHELO("sportello.local"),
	}
	switch cfg.TLS {
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "starttls":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "tls":
		opts = append(opts, mail.WithSSL())
	default:
		return nil, fmt.Errorf("notify: SMTP TLS mode %q is not none, starttls or tls (SPORTELLO_SMTP_TLS)", cfg.TLS)
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: SMTP client: %w", err)
	}
	return &Mailer{cfg: cfg, client: c}, nil
}

// Config returns the configuration in use (defaults filled in, password
// included: do not log it).
func (m *Mailer) Config() Config { return m.cfg }

// MessageID returns the Message-ID (without angle brackets) that Send uses
// for key: "<key>@sportello.local", where characters that may not appear in
// a Message-ID are escaped as =XX (so different keys keep different ids).
// Very long keys are replaced by their SHA-256.
func MessageID(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isAtext(c) && c != '=' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	id := b.String()
	if len(id) > 200 {
		sum := sha256.Sum256([]byte(key))
		id = "sha256-" + hex.EncodeToString(sum[:])
	}
	return id + "@sportello.local"
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// Send delivers msg in one SMTP conversation: multipart/alternative with
// the text and (when present) HTML parts, UTF-8 subject, Message-ID derived
// from msg.Key. Errors wrapping ErrPermanent must not be retried; any other
// error is transient (connection refused, timeout, 4xx replies).
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if strings.TrimSpace(msg.To) == "" {
		return fmt.Errorf("%w: message %q has no recipient", ErrPermanent, msg.Subject)
	}
	mm := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP), mail.WithNoDefaultUserAgent())
	if err := mm.FromFormat(m.cfg.FromName, m.cfg.From); err != nil {
		return fmt.Errorf("%w: sender %q: %v", ErrPermanent, m.cfg.From, err)
	}
	if err := mm.AddToFormat(msg.ToName, msg.To); err != nil {
		return fmt.Errorf("%w: recipient %q: %v", ErrPermanent, msg.To, err)
	}
	mm.Subject(msg.Subject)
	if msg.Key != "" {
		mm.SetMessageIDWithValue(MessageID(msg.Key))
	} else {
		mm.SetMessageID()
	}
	mm.SetDate()
	mm.SetUserAgent("Sportello")
	mm.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	if msg.Lang != "" {
		mm.SetGenHeader(mail.HeaderContentLang, msg.Lang)
	}
	mm.SetBodyString(mail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		mm.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	}
	if err := m.client.DialAndSendWithContext(ctx, mm); err != nil {
		if isPermanent(err) {
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return fmt.Errorf("notify: send to %s via %s:%d: %w", msg.To, m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

// isPermanent reports a 5xx reply to MAIL, RCPT or DATA. Failures while
// connecting or authenticating are left transient: they are usually fixed
// by the operator (or by the server coming back) and Temporal's retry
// policy keeps trying with back-off.
func isPermanent(err error) bool {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case mail.ErrSMTPMailFrom, mail.ErrSMTPRcptTo, mail.ErrSMTPData, mail.ErrSMTPDataClose:
		code := se.ErrorCode()
		return code >= 500 && code < 600
	}
	return false
}
