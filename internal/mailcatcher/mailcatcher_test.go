package mailcatcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Catcher {
	t.Helper()
	opts.Logf = t.Logf
	c, err := Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// client is a line-level SMTP client, so that the tests control every byte.
type client struct {
	t  *testing.T
	tp *textproto.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	_, tp := connect(t, addr, 30*time.Second)
	c := &client{t: t, tp: tp}
	c.expect(220, "")
	return c
}

// connect opens a connection to addr that gives up after limit, closed
// when t ends: the connection itself, and its reader of replies.
func connect(t *testing.T, addr string, limit time.Duration) (net.Conn, *textproto.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(limit))
	tp := textproto.NewConn(conn)
	t.Cleanup(func() { _ = tp.Close() })
	return conn, tp
}

// cmd sends one command and checks the reply code; it returns the reply.
func (c *client) cmd(code int, format string, args ...any) string {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatal(err)
	}
	return c.expect(code, format)
}

func (c *client) expect(code int, what string) string {
	c.t.Helper()
	got, msg, err := c.tp.ReadResponse(0)
	if got != code {
		c.t.Fatalf("%q: reply %d %q (%v), want %d", what, got, msg, err, code)
	}
	return msg
}

// send runs a whole transaction; body lines are written as given (the
// caller dot-stuffs when it wants to).
func (c *client) send(from string, to []string, lines ...string) string {
	c.t.Helper()
	c.cmd(250, "MAIL FROM:<%s>", from)
	for _, r := range to {
		c.cmd(250, "RCPT TO:<%s>", r)
	}
	c.cmd(354, "DATA")
	for _, l := range lines {
		if err := c.tp.PrintfLine("%s", l); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.cmd(250, ".")
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConversationDotStuffingAndRset(t *testing.T) {
	c := start(t, Options{})
	cl := dial(t, c.Addr())
	// Commands out of order are refused with go-smtp's 502 (the hand-written
	// server said 503).
	cl.cmd(502, "MAIL FROM:<a@example.org>") // no EHLO yet
	ehlo := cl.cmd(250, "EHLO test.local")
	for _, ext := range []string{"8BITMIME", "SMTPUTF8", "PIPELINING", "SIZE 10485760"} {
		if !strings.Contains(ehlo, ext) {
			t.Errorf("EHLO reply %q lacks %s", ehlo, ext)
		}
	}
	if strings.Contains(ehlo, "AUTH") || strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO reply %q announces AUTH or STARTTLS", ehlo)
	}
	cl.cmd(250, "NOOP")
	cl.cmd(502, "RCPT TO:<x@example.org>")
	cl.cmd(502, "DATA")

	// RSET drops a transaction: the recipient given before it is forgotten.
	cl.cmd(250, "MAIL FROM:<dropped@example.org>")
	cl.cmd(503, "MAIL FROM:<again@example.org>") // a second sender needs RSET first
	cl.cmd(502, "DATA")                          // no recipient yet
	cl.cmd(250, "RCPT TO:<dropped@example.org>")
	cl.cmd(250, "RSET")
	cl.cmd(502, "RCPT TO:<x@example.org>")
	cl.cmd(502, "DATA")

	cl.cmd(250, "MAIL FROM:<sportello@example.org> BODY=8BITMIME SMTPUTF8")
	cl.cmd(250, "RCPT TO:<maria.rossi@example.org>")
	cl.cmd(250, "RCPT TO:<copia@example.org>")
	cl.cmd(354, "DATA")
	for _, l := range []string{
		"From: Sportello <sportello@example.org>",
		"To: Maria Rossi <maria.rossi@example.org>",
		"Subject: =?UTF-8?q?Domanda_ricevuta_=E2=80=93_pratica_BS-2026-000001?=",
		"Message-ID: <k1@sportello.local>",
		"Content-Type: text/plain; charset=UTF-8",
		"",
		"prima riga",
		"..una riga che inizia con un punto",
		"..",
		"...",
		"città è così",
	} {
		if err := cl.tp.PrintfLine("%s", l); err != nil {
			t.Fatal(err)
		}
	}
	reply := cl.cmd(250, ".")
	cl.cmd(221, "QUIT")

	m, err := c.WaitFor(waitCtx(t), func(m Captured) bool { return m.MessageID == "<k1@sportello.local>" })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply, "queued as "+m.ID) {
		t.Errorf("DATA reply %q does not name the inbox id %s", reply, m.ID)
	}
	if m.From != "sportello@example.org" || strings.Join(m.To, ",") != "maria.rossi@example.org,copia@example.org" {
		t.Errorf("envelope %q → %q", m.From, m.To)
	}
	if m.Subject != "Domanda ricevuta – pratica BS-2026-000001" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.HeaderTo != "Maria Rossi <maria.rossi@example.org>" {
		t.Errorf("header To %q", m.HeaderTo)
	}
	want := "prima riga\r\n.una riga che inizia con un punto\r\n.\r\n..\r\ncittà è così\r\n"
	if m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
	if len(c.Messages()) != 1 {
		t.Errorf("%d messages, want 1 (RSET transaction must not be delivered)", len(c.Messages()))
	}
}

func TestMessageOverSizeLimit(t *testing.T) {
	c := start(t, Options{MaxMessageBytes: 1024})
	cl := dial(t, c.Addr())
	cl.cmd(250, "EHLO test.local")
	cl.cmd(552, "MAIL FROM:<a@example.org> SIZE=5000") // declared too big
	cl.cmd(250, "MAIL FROM:<a@example.org>")
	cl.cmd(250, "RCPT TO:<b@example.org>")
	cl.cmd(354, "DATA")
	_ = cl.tp.PrintfLine("Subject: big")
	_ = cl.tp.PrintfLine("")
	for i := 0; i < 40; i++ {
		_ = cl.tp.PrintfLine("%s", strings.Repeat("x", 70))
	}
	cl.cmd(552, ".")
	// The connection is still usable and the transaction was reset.
	cl.cmd(502, "RCPT TO:<b@example.org>")
	cl.send("a@example.org", []string{"b@example.org"}, "Subject: small", "", "ok")
	cl.cmd(221, "QUIT")

	// One line longer than the line limit (the larger of 4096 bytes and the
	// size limit): the message is refused all the same, then go-smtp ends
	// the connection, as it cannot tell where that line ends.
	cl2 := dial(t, c.Addr())
	cl2.cmd(250, "EHLO test.local")
	cl2.cmd(250, "MAIL FROM:<a@example.org>")
	cl2.cmd(250, "RCPT TO:<b@example.org>")
	cl2.cmd(354, "DATA")
	_ = cl2.tp.PrintfLine("Subject: long line")
	_ = cl2.tp.PrintfLine("")
	// No final dot: the server answers as soon as the line passes the
	// limit and then closes, so writing more could meet a closed socket.
	cl2.cmd(552, "%s", strings.Repeat("y", 5000))
	cl2.expect(500, "after the long line")

	msgs := c.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "small" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestRefusals(t *testing.T) {
	c := start(t, Options{MaxRecipients: 2})
	cl := dial(t, c.Addr())
	cl.cmd(501, "EHLO")
	cl.cmd(250, "EHLO test.local")
	cl.cmd(500, "MAIL FROM:<a@example.org> FOO=1")
	cl.cmd(555, "MAIL FROM:<a@example.org> AUTH=<>")
	cl.cmd(501, "MAIL FROM:<a@example.org> BODY=9BIT")
	cl.cmd(501, "MAIL FROM:<a@example.org")
	cl.cmd(250, "MAIL FROM:<a@example.org> SIZE=100 BODY=7BIT")
	cl.cmd(501, "RCPT TO:<>")
	cl.cmd(504, "RCPT TO:<r0@example.org> NOTIFY=NEVER")
	cl.cmd(250, "RCPT TO:<r1@example.org>")
	cl.cmd(250, "RCPT TO:<r2@example.org>")
	cl.cmd(452, "RCPT TO:<r3@example.org>") // MaxRecipients
	cl.cmd(501, "DATA now")
	cl.cmd(500, "XYZW")     // unknown command: refused, the session goes on
	cl.cmd(502, "STARTTLS") // no TLS
	cl.cmd(252, "VRFY r1@example.org")
	cl.cmd(250, "RSET")
	cl.send("a@example.org", []string{"b@example.org"}, "Subject: after refusals", "", "ok")
	m, err := c.WaitFor(waitCtx(t), func(m Captured) bool { return m.Subject == "after refusals" })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.To, ",") != "b@example.org" {
		t.Errorf("envelope recipients %q", m.To)
	}
}

func TestChunking(t *testing.T) {
	c := start(t, Options{MaxMessageBytes: 100})
	cl := dial(t, c.Addr())
	cl.cmd(250, "EHLO test.local")
	cl.cmd(250, "MAIL FROM:<a@example.org>")
	cl.cmd(250, "RCPT TO:<b@example.org>")
	body := "Subject: chunked\r\n\r\nuno\r\n"
	if err := cl.tp.PrintfLine("BDAT %d LAST", len(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.tp.W.WriteString(body); err != nil {
		t.Fatal(err)
	}
	_ = cl.tp.W.Flush()
	reply := cl.expect(250, "BDAT LAST")
	m, err := c.WaitFor(waitCtx(t), func(m Captured) bool { return m.Subject == "chunked" })
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "uno\r\n" || !strings.Contains(reply, m.ID) {
		t.Errorf("text %q, reply %q", m.Text, reply)
	}
	// The size limit holds across chunks.
	cl.cmd(250, "MAIL FROM:<a@example.org>")
	cl.cmd(250, "RCPT TO:<b@example.org>")
	big := strings.Repeat("z", 101)
	_ = cl.tp.PrintfLine("BDAT %d LAST", len(big))
	_, _ = cl.tp.W.WriteString(big)
	_ = cl.tp.W.Flush()
	cl.expect(552, "BDAT over the limit")
	if n := len(c.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestTooManyConnections(t *testing.T) {
	c := start(t, Options{MaxConns: 1})
	first := dial(t, c.Addr())
	first.cmd(250, "EHLO first.local")
	_, tp := connect(t, c.Addr(), 10*time.Second)
	if code, msg, err := tp.ReadResponse(421); err != nil {
		t.Fatalf("second connection: %d %q %v, want 421", code, msg, err)
	}
	// Once the first one has quit and the server has closed it (it leaves
	// the open set before closing), a new connection is served.
	first.cmd(221, "QUIT")
	if _, err := first.tp.ReadLine(); err != io.EOF {
		t.Fatalf("after QUIT: %v, want EOF", err)
	}
	if err := smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte("Subject: next\r\n\r\nx\r\n")); err != nil {
		t.Fatalf("no connection served after the first quit: %v", err)
	}
	if len(c.Messages()) != 1 {
		t.Errorf("%d messages, want 1", len(c.Messages()))
	}
}

func TestTwoConcurrentClients(t *testing.T) {
	c := start(t, Options{})
	a, b := dial(t, c.Addr()), dial(t, c.Addr())
	// Interleave the two conversations step by step.
	a.cmd(250, "EHLO a.local")
	b.cmd(250, "HELO b.local")
	a.cmd(250, "MAIL FROM:<a@example.org>")
	b.cmd(250, "MAIL FROM:<b@example.org>")
	a.cmd(250, "RCPT TO:<to-a@example.org>")
	b.cmd(250, "RCPT TO:<to-b@example.org>")
	a.cmd(354, "DATA")
	b.cmd(354, "DATA")
	_ = a.tp.PrintfLine("Subject: from a\r\n\r\nbody a")
	_ = b.tp.PrintfLine("Subject: from b\r\n\r\nbody b")
	b.cmd(250, ".")
	a.cmd(250, ".")

	// And many clients at once through net/smtp.
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			msg := fmt.Sprintf("Subject: parallel %d\r\n\r\nbody %d\r\n", i, i)
			errs <- smtp.SendMail(c.Addr(), nil, "p@example.org", []string{fmt.Sprintf("r%d@example.org", i)}, []byte(msg))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	bySubject := map[string]Captured{}
	for _, m := range c.Messages() {
		bySubject[m.Subject] = m
	}
	if len(bySubject) != 12 {
		t.Fatalf("%d distinct messages, want 12", len(bySubject))
	}
	if m := bySubject["from a"]; m.From != "a@example.org" || m.To[0] != "to-a@example.org" || m.Text != "body a\r\n" {
		t.Errorf("a: %+v", m)
	}
	if m := bySubject["from b"]; m.From != "b@example.org" || m.To[0] != "to-b@example.org" || m.Text != "body b\r\n" {
		t.Errorf("b: %+v", m)
	}
	if m := bySubject["parallel 7"]; m.To[0] != "r7@example.org" {
		t.Errorf("parallel 7: %+v", m)
	}
}

func TestPipelining(t *testing.T) {
	c := start(t, Options{})
	conn, tp := connect(t, c.Addr(), 10*time.Second)
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "EHLO p.local\r\nMAIL FROM:<p@example.org>\r\nRCPT TO:<q@example.org>\r\nDATA\r\n")
	for _, code := range []int{250, 250, 250, 354} {
		if _, _, err := tp.ReadResponse(code); err != nil {
			t.Fatalf("want %d: %v", code, err)
		}
	}
	_, _ = io.WriteString(conn, "Subject: piped\r\n\r\nx\r\n.\r\nQUIT\r\n")
	for _, code := range []int{250, 221} {
		if _, _, err := tp.ReadResponse(code); err != nil {
			t.Fatalf("want %d: %v", code, err)
		}
	}
}

func TestBoundedAndPersisted(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Options{Dir: dir, MaxMessages: 3})
	for i := range 5 {
		msg := fmt.Sprintf("Subject: n%d\r\n\r\nbody\r\n", i)
		if err := smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, m := range c.Messages() {
		got = append(got, m.Subject)
	}
	if strings.Join(got, ",") != "n4,n3,n2" {
		t.Errorf("kept %v, want the newest three, newest first", got)
	}
	_ = c.Close()

	c2 := start(t, Options{Dir: dir, MaxMessages: 10})
	got = nil
	for _, m := range c2.Messages() {
		got = append(got, m.Subject)
		if m.From != "a@example.org" || len(m.To) != 1 || m.To[0] != "b@example.org" || m.Received.IsZero() {
			t.Errorf("reloaded envelope: %+v", m)
		}
	}
	if strings.Join(got, ",") != "n4,n3,n2,n1,n0" {
		t.Errorf("reloaded %v", got)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	c := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.WaitFor(ctx, func(Captured) bool { return true }); err == nil {
		t.Fatal("WaitFor returned without messages")
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = smtp.SendMail(c.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte("Subject: later\r\n\r\nx\r\n"))
	}()
	m, err := c.WaitFor(waitCtx(t), func(m Captured) bool { return m.Subject == "later" })
	if err != nil || m.Subject != "later" {
		t.Fatalf("WaitFor: %v %+v", err, m)
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:25"} {
		if c, err := Start(context.Background(), addr, Options{}); err == nil {
			_ = c.Close()
			t.Errorf("listening on %s accepted", addr)
		}
	}
}

func TestContextStopsCatcher(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Start(ctx, "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl := dial(t, c.Addr()) // an open connection must not block the stop
	cl.cmd(250, "EHLO x.local")
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", c.Addr(), time.Second)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after the context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Close(); err != nil && !strings.Contains(err.Error(), "closed") {
		t.Errorf("Close after stop: %v", err)
	}
}

func TestParseMultipartBase64AndLatin1(t *testing.T) {
	raw := "From: =?ISO-8859-1?q?Citt=E0?= <a@example.org>\r\n" +
		"Subject: =?ISO-8859-1?q?perch=E9?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nperch=E9 s=\r\n=EC\r\n" +
		"--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+Y2l0dMOg\r\nPC9wPg==\r\n" +
		"--inner--\r\n" +
		"--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nnot the body\r\n" +
		"--outer--\r\n"
	m := parseMessage([]byte(raw))
	if m.ParseError != "" {
		t.Fatal(m.ParseError)
	}
	if m.Subject != "perché" || m.HeaderFrom != "Città <a@example.org>" {
		t.Errorf("headers: %q %q", m.Subject, m.HeaderFrom)
	}
	if m.Text != "perché sì" || m.HTML != "<p>città</p>" {
		t.Errorf("text %q html %q", m.Text, m.HTML)
	}
}

func TestInboxHTTP(t *testing.T) {
	c := start(t, Options{})
	raw := "From: Sportello <s@example.org>\r\nTo: <x@example.org>\r\n" +
		"Subject: <script>alert(1)</script> & pratica\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n<img src=x onerror=alert(2)> testo\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>ciao <script>alert(3)</script></p>\r\n--b--\r\n"
	if err := smtp.SendMail(c.Addr(), nil, "s@example.org", []string{"x@example.org"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Posta in arrivo") {
		t.Fatalf("inbox %d:\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; pratica") {
		t.Errorf("subject not escaped in the list:\n%s", body)
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("inbox CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	if _, body := get("/", "Accept-Language", "en-GB,en;q=0.8"); !strings.Contains(body, "Inbox (mail catcher)") {
		t.Error("English labels not chosen from Accept-Language")
	}

	id := c.Messages()[0].ID
	_, body = get("/messages/" + id + "?lang=en")
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Errorf("message page not escaped:\n%s", body)
	}
	if !strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt; testo") || !strings.Contains(body, `<iframe sandbox src="/messages/`+id+`/html"`) {
		t.Errorf("message page:\n%s", body)
	}
	resp, body = get("/messages/" + id + "/html")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("HTML part CSP %q", csp)
	}
	if !strings.Contains(body, "<p>ciao") {
		t.Errorf("HTML part %q", body)
	}
	if resp, _ := get("/messages/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown message: %d", resp.StatusCode)
	}

	resp, body = get("/api/messages")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	var list []Captured
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Subject != "<script>alert(1)</script> & pratica" || list[0].To[0] != "x@example.org" || list[0].ID != id {
		t.Errorf("api list %+v", list)
	}
}

func TestIdleTimeout(t *testing.T) {
	c := start(t, Options{IdleTimeout: 200 * time.Millisecond})
	cl := dial(t, c.Addr())        // the client says nothing after the greeting
	cl.expect(421, "after idling") // the server speaks first, then closes
	if _, err := cl.tp.ReadLine(); err != io.EOF {
		t.Fatalf("after 421: %v, want EOF", err)
	}
}
