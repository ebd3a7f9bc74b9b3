// Package mailcatcher is a small SMTP server for development and tests: it
// accepts every message sent to it on a loopback address, keeps the newest
// ones in memory (and optionally as .eml files in a folder) and shows them
// in a web inbox. There is no authentication and no TLS, so it refuses to
// listen on anything but a loopback address.
package mailcatcher

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Catcher. The zero value is usable.
type Options struct {
	// Dir, when set, receives every message as <id>.eml; the messages found
	// there are loaded again at start-up (newest MaxMessages).
	Dir string
	// Logf logs connections errors and received messages (default: silent).
	Logf func(format string, args ...any)
	// MaxMessageBytes is the largest message accepted (default 10 MiB):
	// larger ones are refused with 552.
	MaxMessageBytes int
	// MaxMessages is how many messages are kept in memory (default 500).
	MaxMessages int
	// MaxRecipients per message (default 100).
	MaxRecipients int
	// MaxConns is the number of concurrent connections (default 64).
	MaxConns int
	// Hostname announced in the greeting (default "sportello-mailcatcher").
	Hostname string
	// IdleTimeout closes a connection idle for that long (default 5m).
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
	opts Options
	ln   net.Listener

	mu      sync.Mutex
	msgs    []Captured // oldest first
	changed chan struct{}
	seq     uint64
	conns   map[net.Conn]struct{}
	closed  bool

	wg        sync.WaitGroup
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
	c.wg.Add(1)
	go c.acceptLoop()
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
		c.closeErr = c.ln.Close()
		c.mu.Lock()
		c.closed = true
		for conn := range c.conns {
			_ = conn.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
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

func (c *Catcher) acceptLoop() {
	defer c.wg.Done()
	var delay time.Duration
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			select {
			case <-c.stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.opts.Logf("mail catcher: accept: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		delay = 0
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			_ = conn.Close()
			return
		}
		busy := len(c.conns) >= c.opts.MaxConns
		if !busy {
			c.conns[conn] = struct{}{}
			c.wg.Add(1)
		}
		c.mu.Unlock()
		if busy {
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte("421 4.3.2 Too many connections, try again later\r\n"))
			_ = conn.Close()
			continue
		}
		go func() {
			defer c.wg.Done()
			defer func() {
				c.mu.Lock()
				delete(c.conns, conn)
				c.mu.Unlock()
				_ = conn.Close()
			}()
			s := &session{c: c, conn: conn, r: bufio.NewReaderSize(conn, 4096), w: bufio.NewWriter(conn)}
			if err := s.serve(); err != nil && !errors.Is(err, net.ErrClosed) {
				c.opts.Logf("mail catcher: connection from %s: %v", conn.RemoteAddr(), err)
			}
		}()
	}
}

// ---- one SMTP session ----

const maxCommandLine = 4096

var errLineTooLong = errors.New("line too long")

type session struct {
	c    *Catcher
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	helo string
	from *string // nil: no MAIL yet
	rcpt []string
}

func (s *session) reply(code int, lines ...string) error {
	for i, l := range lines {
		sep := " "
		if i < len(lines)-1 {
			sep = "-"
		}
		fmt.Fprintf(s.w, "%d%s%s\r\n", code, sep, l)
	}
	// With PIPELINING, the replies to a batch of commands go out together:
	// flush unless another complete command is already buffered.
	if b, _ := s.r.Peek(s.r.Buffered()); bytes.IndexByte(b, '\n') >= 0 {
		return nil
	}
	return s.w.Flush()
}

func (s *session) flush() error { return s.w.Flush() }

// readLine reads one line (without CRLF or LF). A line longer than limit
// is consumed entirely and reported as errLineTooLong.
func (s *session) readLine(limit int) ([]byte, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(s.c.opts.IdleTimeout))
	var line []byte
	tooLong := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > limit+2 {
				tooLong, line = true, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if tooLong {
		return nil, errLineTooLong
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

func (s *session) reset() {
	s.from = nil
	s.rcpt = nil
}

func (s *session) serve() error {
	opts := s.c.opts
	if err := s.reply(220, opts.Hostname+" ESMTP Sportello mail catcher (development only)"); err != nil {
		return err
	}
	for {
		line, err := s.readLine(maxCommandLine)
		if errors.Is(err, errLineTooLong) {
			if err := s.reply(500, "5.5.2 Line too long"); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = s.reply(421, "4.4.2 Idle for too long, closing connection")
				return nil
			}
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		verb, arg, _ := strings.Cut(string(line), " ")
		verb = strings.ToUpper(verb)
		arg = strings.TrimSpace(arg)
		switch verb {
		case "EHLO", "HELO":
			if arg == "" {
				err = s.reply(501, "5.5.4 Syntax: "+verb+" hostname")
				break
			}
			s.helo = arg
			s.reset()
			if verb == "HELO" {
				err = s.reply(250, opts.Hostname+" greets "+arg)
			} else {
				err = s.reply(250, opts.Hostname+" greets "+arg, "8BITMIME", "SMTPUTF8", "PIPELINING",
					"ENHANCEDSTATUSCODES", "SIZE "+strconv.Itoa(opts.MaxMessageBytes))
			}
		case "MAIL":
			err = s.mail(arg)
		case "RCPT":
			err = s.rcptTo(arg)
		case "DATA":
			err = s.data(arg)
		case "RSET":
			s.reset()
			err = s.reply(250, "2.0.0 Ok")
		case "NOOP":
			err = s.reply(250, "2.0.0 Ok")
		case "QUIT":
			_ = s.reply(221, "2.0.0 Bye")
			_ = s.flush()
			return nil
		case "VRFY":
			err = s.reply(252, "2.1.5 Cannot verify, but will accept the message")
		case "HELP":
			err = s.reply(214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT")
		case "STARTTLS", "AUTH", "BDAT", "EXPN", "TURN", "ETRN":
			err = s.reply(502, "5.5.1 Command not implemented")
		default:
			err = s.reply(500, "5.5.2 Command not recognised")
		}
		if err != nil {
			return err
		}
	}
}

// parsePath parses "FROM:<addr> params" or "TO:<addr> params" after the
// prefix. It returns the address (without brackets) and the parameters.
func parsePath(arg, prefix string) (addr string, params []string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", nil, false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		// Tolerate a bare address, as some clients send one.
		addr, p, _ := strings.Cut(rest, " ")
		if addr == "" || strings.ContainsAny(addr, "<>") {
			return "", nil, false
		}
		return addr, strings.Fields(p), true
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", nil, false
	}
	addr = rest[1:end]
	// A source route (@a,@b:user@host) is ignored, as RFC 5321 allows.
	if strings.HasPrefix(addr, "@") {
		if i := strings.IndexByte(addr, ':'); i >= 0 {
			addr = addr[i+1:]
		}
	}
	if strings.ContainsAny(addr, "<> ") {
		return "", nil, false
	}
	return addr, strings.Fields(rest[end+1:]), true
}

func (s *session) mail(arg string) error {
	if s.helo == "" {
		return s.reply(503, "5.5.1 Say EHLO or HELO first")
	}
	if s.from != nil {
		return s.reply(503, "5.5.1 Sender already given (RSET first)")
	}
	addr, params, ok := parsePath(arg, "FROM:")
	if !ok {
		return s.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
	}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToUpper(k) {
		case "SIZE":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return s.reply(501, "5.5.4 Bad SIZE parameter")
			}
			if n > int64(s.c.opts.MaxMessageBytes) {
				return s.reply(552, "5.3.4 Message size exceeds fixed maximum message size")
			}
		case "BODY":
			if u := strings.ToUpper(v); u != "7BIT" && u != "8BITMIME" {
				return s.reply(501, "5.5.4 Bad BODY parameter")
			}
		case "SMTPUTF8":
		default:
			return s.reply(555, "5.5.4 Unsupported parameter "+k)
		}
	}
	s.from = &addr
	s.rcpt = nil
	return s.reply(250, "2.1.0 Ok")
}

func (s *session) rcptTo(arg string) error {
	if s.from == nil {
		return s.reply(503, "5.5.1 Need MAIL before RCPT")
	}
	addr, params, ok := parsePath(arg, "TO:")
	if !ok || addr == "" {
		return s.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
	}
	if len(params) > 0 {
		return s.reply(555, "5.5.4 Unsupported parameter "+params[0])
	}
	if len(s.rcpt) >= s.c.opts.MaxRecipients {
		return s.reply(452, "4.5.3 Too many recipients")
	}
	s.rcpt = append(s.rcpt, addr)
	return s.reply(250, "2.1.5 Ok")
}

func (s *session) data(arg string) error {
	if arg != "" {
		return s.reply(501, "5.5.4 Syntax: DATA")
	}
	if s.from == nil {
		return s.reply(503, "5.5.1 Need MAIL command")
	}
	if len(s.rcpt) == 0 {
		return s.reply(554, "5.5.1 No valid recipients")
	}
	if err := s.reply(354, "End data with <CR><LF>.<CR><LF>"); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	max := s.c.opts.MaxMessageBytes
	var buf bytes.Buffer
	tooBig := false
	for {
		// Lines longer than the SMTP limit are accepted; the size limit
		// bounds memory.
		line, err := s.readLine(max + 2)
		if errors.Is(err, errLineTooLong) {
			tooBig, err = true, nil
			buf.Reset()
			continue
		}
		if err != nil {
			return err
		}
		if len(line) == 1 && line[0] == '.' {
			break
		}
		if len(line) > 0 && line[0] == '.' {
			line = line[1:] // dot-unstuffing (RFC 5321 4.5.2)
		}
		if tooBig {
			continue
		}
		if buf.Len()+len(line)+2 > max {
			tooBig = true
			buf.Reset()
			continue
		}
		buf.Write(line)
		buf.WriteString("\r\n")
	}
	from, to := *s.from, s.rcpt
	s.reset()
	if tooBig {
		return s.reply(552, fmt.Sprintf("5.3.4 Message too big (limit %d bytes)", max))
	}
	id := s.c.deliver(from, to, bytes.Clone(buf.Bytes()))
	return s.reply(250, "2.0.0 Ok: queued as "+id)
}
