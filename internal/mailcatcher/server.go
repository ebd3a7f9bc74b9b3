// Package mailcatcher is a small SMTP server for development and tests: it
// accepts every message sent to it on a loopback address, keeps the newest
// ones in memory (and optionally as .eml files in a folder) and shows them
// in a web inbox. The SMTP protocol is github.com/emersion/go-smtp's; this
// package keeps the inbox, the message parsing and the web view. There is
// no authentication and no TLS, so it refuses to listen on anything but a
// loopback address.
package mailcatcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Options configure a Catcher. The zero value is usable.
type Options struct {
	// Dir, when set, receives every message as <id>.eml; the messages found
	// there are loaded again at start-up (newest MaxMessages).
	Dir string
	// Logf logs connections errors and received messages (default: silent).
	Logf func(format string, args ...any)
	// MaxMessageBytes is the size limit announced with SIZE (default
	// 10 MiB): messages that reach it are refused with 552 (go-smtp accepts
	// at most MaxMessageBytes-1 bytes).
	MaxMessageBytes int
	// MaxMessages is how many messages are kept in memory (default 500).
	MaxMessages int
	// MaxRecipients per message (default 100).
	MaxRecipients int
	// MaxConns is the number of concurrent connections (default 64).
	MaxConns int
	// Hostname announced in the greeting (default "sportello-mailcatcher").
	Hostname string
	// IdleTimeout closes a connection idle for that long (default 5m); the
	// body of a message after DATA must arrive within it too.
	IdleTimeout time.Duration
}

// Captured is one received message.
type Captured struct {
	ID        string    `json:"id"`
	From      string    `json:"from"` // envelope sender (MAIL FROM)
	To        []string  `json:"to"`   // envelope recipients (RCPT TO)
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	HTML      string    `json:"html"`
	Received  time.Time `json:"received"`
	Raw       []byte    `json:"-"`
	MessageID string    `json:"message_id"` // Message-ID header, angle brackets included
	// HeaderFrom and HeaderTo are the decoded From and To headers.
	HeaderFrom string `json:"header_from"`
	HeaderTo   string `json:"header_to"`
	// Header holds every header field of the message (keys canonicalised).
	Header map[string][]string `json:"-"`
	// ParseError reports a message that could not be fully parsed (it is
	// kept anyway).
	ParseError string `json:"parse_error,omitempty"`
}

// Catcher is a running mail catcher.
type Catcher struct {
	opts   Options
	ln     net.Listener
	srv    *smtp.Server
	served chan struct{} // closed when srv.Serve has returned

	mu      sync.Mutex
	msgs    []Captured // oldest first
	changed chan struct{}
	seq     uint64
	conns   map[net.Conn]struct{}
	closed  bool

	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
}

// Start listens on smtpAddr (a loopback host:port; port 0 picks one) and
// serves SMTP until ctx ends or Close is called.
func Start(ctx context.Context, smtpAddr string, opts Options) (*Catcher, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 10 << 20
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = 500
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = 100
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 64
	}
	if opts.Hostname == "" {
		opts.Hostname = "sportello-mailcatcher"
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	host, _, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		return nil, fmt.Errorf("mailcatcher: address %q: %w", smtpAddr, err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("mailcatcher: refusing to listen on %q: only loopback addresses (no authentication, no TLS)", smtpAddr)
	}
	c := &Catcher{
		opts:    opts,
		changed: make(chan struct{}),
		conns:   map[net.Conn]struct{}{},
		stop:    make(chan struct{}),
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("mailcatcher: %w", err)
		}
		if err := c.load(); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		return nil, fmt.Errorf("mailcatcher: listen on %s: %w", smtpAddr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("mailcatcher: %s resolved to a non-loopback address", smtpAddr)
	}
	c.ln = ln
	c.srv = c.newServer()
	c.served = make(chan struct{})
	go func() {
		defer close(c.served)
		if err := c.srv.Serve(limitListener{Listener: ln, c: c}); err != nil && !errors.Is(err, net.ErrClosed) {
			c.opts.Logf("mail catcher: serve: %v", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Close()
		case <-c.stop:
		}
	}()
	opts.Logf("mail catcher listening on %s", ln.Addr())
	return c, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the SMTP host:port.
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops accepting, closes open connections and waits for them.
func (c *Catcher) Close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		// Closing the listener ends Serve, so no session starts after this;
		// closing the open connections ends the sessions, and Shutdown
		// waits for them.
		c.closeErr = c.ln.Close()
		<-c.served
		c.mu.Lock()
		for conn := range c.conns {
			_ = conn.Close()
		}
		c.mu.Unlock()
		_ = c.srv.Shutdown(context.Background())
	})
	return c.closeErr
}

// Messages returns the messages kept in memory, newest first.
func (c *Catcher) Messages() []Captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Captured, len(c.msgs))
	for i, m := range c.msgs {
		out[len(c.msgs)-1-i] = m
	}
	return out
}

// Message returns the message with id.
func (c *Catcher) Message(id string) (Captured, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Captured{}, false
}

// WaitFor returns the first message (oldest first, those already received
// included) for which match is true, waiting for new ones until ctx ends.
func (c *Catcher) WaitFor(ctx context.Context, match func(Captured) bool) (Captured, error) {
	seen := 0
	var lastID string
	for {
		c.mu.Lock()
		// Start again from the beginning when old messages were dropped.
		if seen > len(c.msgs) || (seen > 0 && c.msgs[seen-1].ID != lastID) {
			seen = 0
		}
		for ; seen < len(c.msgs); seen++ {
			if match(c.msgs[seen]) {
				m := c.msgs[seen]
				c.mu.Unlock()
				return m, nil
			}
		}
		if seen > 0 {
			lastID = c.msgs[seen-1].ID
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Captured{}, fmt.Errorf("mailcatcher: no matching message: %w", ctx.Err())
		}
	}
}

func (c *Catcher) store(m Captured) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	if over := len(c.msgs) - c.opts.MaxMessages; over > 0 {
		c.msgs = slices.Delete(c.msgs, 0, over)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *Catcher) newID(now time.Time) string {
	c.mu.Lock()
	c.seq++
	n := c.seq
	c.mu.Unlock()
	return fmt.Sprintf("%s-%06d", now.UTC().Format("20060102T150405.000000"), n)
}

// deliver parses, stores and (with Dir) writes one received message.
func (c *Catcher) deliver(from string, to []string, raw []byte) string {
	now := time.Now()
	id := c.newID(now)
	m := parseMessage(raw)
	m.ID, m.From, m.To, m.Received, m.Raw = id, from, slices.Clone(to), now, raw
	if c.opts.Dir != "" {
		if err := c.writeFile(m); err != nil {
			c.opts.Logf("mail catcher: save %s: %v", id, err)
		}
	}
	c.store(m)
	c.opts.Logf("mail catcher: message %s from <%s> to %s: %q", id, from, strings.Join(to, ", "), m.Subject)
	return id
}

// writeFile writes the message with an envelope header block that load
// reads back (X-Mailcatcher-* lines are prepended, not part of Raw).
func (c *Catcher) writeFile(m Captured) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "X-Mailcatcher-Envelope-From: <%s>\r\n", m.From)
	for _, r := range m.To {
		fmt.Fprintf(&b, "X-Mailcatcher-Envelope-To: <%s>\r\n", r)
	}
	fmt.Fprintf(&b, "X-Mailcatcher-Received: %s\r\n", m.Received.Format(time.RFC3339Nano))
	b.Write(m.Raw)
	tmp := filepath.Join(c.opts.Dir, "."+m.ID+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.opts.Dir, m.ID+".eml"))
}

// load reads the newest MaxMessages .eml files of Dir.
func (c *Catcher) load() error {
	entries, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return fmt.Errorf("mailcatcher: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names) // ids sort by time
	if len(names) > c.opts.MaxMessages {
		names = names[len(names)-c.opts.MaxMessages:]
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(c.opts.Dir, name))
		if err != nil {
			c.opts.Logf("mail catcher: load %s: %v", name, err)
			continue
		}
		var from string
		var to []string
		var received time.Time
		for {
			line, rest, ok := bytes.Cut(data, []byte("\r\n"))
			if !ok || !bytes.HasPrefix(line, []byte("X-Mailcatcher-")) {
				break
			}
			k, v, _ := strings.Cut(string(line), ": ")
			v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
			switch k {
			case "X-Mailcatcher-Envelope-From":
				from = v
			case "X-Mailcatcher-Envelope-To":
				to = append(to, v)
			case "X-Mailcatcher-Received":
				received, _ = time.Parse(time.RFC3339Nano, v)
			}
			data = rest
		}
		m := parseMessage(data)
		m.ID, m.From, m.To, m.Received, m.Raw = strings.TrimSuffix(name, ".eml"), from, to, received, data
		c.msgs = append(c.msgs, m)
	}
	return nil
}

// ---- the SMTP side, on github.com/emersion/go-smtp ----

// maxCommandLine is the shortest line limit: the limit is the larger of it
// and MaxMessageBytes (plus CRLF), so that no line of an acceptable message
// is ever refused, and memory stays bounded.
const maxCommandLine = 4096

// newServer configures the go-smtp server: the protocol (commands, their
// order, PIPELINING, 8BITMIME, SMTPUTF8, SIZE, CHUNKING, dot-unstuffing,
// the recipients limit, the idle timeout) is the library's; the session
// below only hands each message to the inbox.
func (c *Catcher) newServer() *smtp.Server {
	opts := c.opts
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{c: c}, nil
	}))
	srv.Domain = opts.Hostname
	srv.MaxMessageBytes = int64(opts.MaxMessageBytes)
	srv.MaxRecipients = opts.MaxRecipients
	srv.MaxLineLength = max(opts.MaxMessageBytes, maxCommandLine) + 2
	srv.ReadTimeout = opts.IdleTimeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = logfLogger(opts.Logf)
	return srv
}

// logfLogger adapts Options.Logf to the logger go-smtp reports to.
type logfLogger func(format string, args ...any)

func (l logfLogger) Printf(format string, args ...any) { l("mail catcher: "+format, args...) }
func (l logfLogger) Println(args ...any) {
	l("mail catcher: %s", strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
}

// session is one SMTP session: the envelope of the current transaction.
type session struct {
	c    *Catcher
	from *string // nil: no MAIL yet
	rcpt []string
}

func (s *session) Reset() {
	s.from = nil
	s.rcpt = nil
}

func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	// go-smtp lets a second MAIL replace the first; the catcher, as
	// before, wants a RSET in between.
	if s.from != nil {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Sender already given (RSET first)"}
	}
	// AUTH=<mailbox> is the one parameter go-smtp accepts that the catcher
	// does not announce (it has no AUTH).
	if opts != nil && opts.Auth != nil {
		return &smtp.SMTPError{Code: 555, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unsupported parameter AUTH"}
	}
	s.from = &from
	s.rcpt = nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if s.from == nil || len(s.rcpt) == 0 { // go-smtp checks this already
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Need MAIL and RCPT first"}
	}
	raw, err := io.ReadAll(r)
	if errors.Is(err, smtp.ErrDataTooLarge) || errors.Is(err, smtp.ErrTooLongLine) {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
			Message: fmt.Sprintf("Message too big (limit %d bytes)", s.c.opts.MaxMessageBytes)}
	}
	if err != nil {
		return err
	}
	id := s.c.deliver(*s.from, s.rcpt, raw)
	// A 250 "error" is how go-smtp lets a session word its success reply
	// (emersion/go-smtp#86): the queue id matches the inbox id and the log.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + id}
}

// limitListener refuses connections beyond MaxConns with 421 (go-smtp has
// no such limit) and keeps the open ones so that Close can end them.
type limitListener struct {
	net.Listener
	c *Catcher
}

func (l limitListener) Accept() (net.Conn, error) {
	c := l.c
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		closed, busy := c.closed, len(c.conns) >= c.opts.MaxConns
		if !closed && !busy {
			c.conns[conn] = struct{}{}
		}
		c.mu.Unlock()
		switch {
		case closed:
			_ = conn.Close()
		case busy:
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte("421 4.3.2 Too many connections, try again later\r\n"))
			_ = conn.Close()
		default:
			return &trackedConn{Conn: conn, c: c}, nil
		}
	}
}

// trackedConn leaves the open set when it is closed.
type trackedConn struct {
	net.Conn
	c    *Catcher
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.c.mu.Lock()
		delete(t.c.conns, t.Conn)
		t.c.mu.Unlock()
	})
	return t.Conn.Close()
}
