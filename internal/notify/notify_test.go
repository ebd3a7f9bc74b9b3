package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"sportello/internal/mailcatcher"
)

// 2026-03-30 23:30 UTC is 31/03/2026 01:30 in Rome (summer time): a date
// printed in UTC would be wrong by one day.
var (
	due     = time.Date(2026, 3, 30, 23, 30, 0, 0, time.UTC)
	dueText = "31/03/2026"
)

func fullData() map[string]any {
	return map[string]any{
		"name":            "Maria Rossi",
		"case_number":     "BS-2026-000123",
		"portal_url":      "http://127.0.0.1:8080/",
		"benefit":         "buoni spesa",
		"submitted_at":    due,
		"question":        "Allegare l'ultima attestazione ISEE",
		"reply_by":        due,
		"amount_cents":    int64(55000),
		"available_cents": 27500,
		"reason":          "ISEE oltre la soglia <b>del fondo</b>",
		"expires_at":      "2026-03-31",
		"decision_by":     "2026-03-31",
		"applicant":       "Maria Rossi",
		"municipality":    "Tradate",
		"due_at":          due,
	}
}

// required keys of every kind, beyond name, case_number and portal_url.
var required = map[string][]string{
	KindApplicationReceived:  {"benefit", "submitted_at", "decision_by"},
	KindInformationRequested: {"question", "reply_by"},
	KindApproved:             {"amount_cents"},
	KindRejected:             {"reason"},
	KindVoucherReady:         {"amount_cents", "expires_at"},
	KindTrancheReleased:      {"amount_cents", "available_cents", "expires_at"},
	KindVoucherExpiring:      {"available_cents", "expires_at"},
	KindWithdrawn:            {},
	KindStaffAssigned:        {"applicant", "municipality", "due_at"},
	KindStaffReminder:        {"due_at"},
	KindStaffEscalation:      {"municipality", "due_at"},
}

func TestRenderEveryKindInBothLanguages(t *testing.T) {
	if len(required) != len(Kinds) {
		t.Fatalf("test covers %d kinds, package has %d", len(required), len(Kinds))
	}
	euro := map[string]map[int64]string{
		"it": {55000: "550,00 €", 27500: "275,00 €"},
		"en": {55000: "€550.00", 27500: "€275.00"},
	}
	for _, kind := range Kinds {
		for _, lang := range Languages {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				msg, err := Render(kind, lang, fullData())
				if err != nil {
					t.Fatal(err)
				}
				if msg.Lang != lang {
					t.Errorf("lang %q", msg.Lang)
				}
				if !strings.Contains(msg.Subject, "BS-2026-000123") || strings.Contains(msg.Subject, "\n") {
					t.Errorf("subject %q", msg.Subject)
				}
				greeting := map[string]string{"it": "Gentile Maria Rossi,", "en": "Dear Maria Rossi,"}[lang]
				link := "http://127.0.0.1:8080/"
				if strings.HasPrefix(kind, "staff_") {
					link = "http://127.0.0.1:8080/inbox"
				}
				for part, body := range map[string]string{"text": msg.Text, "html": msg.HTML} {
					for _, want := range []string{"BS-2026-000123", greeting, link} {
						if !strings.Contains(body, want) {
							t.Errorf("%s part lacks %q:\n%s", part, want, body)
						}
					}
					for _, k := range required[kind] {
						var want string
						switch k {
						case "amount_cents":
							want = euro[lang][55000]
						case "available_cents":
							want = euro[lang][27500]
						case "submitted_at", "reply_by", "due_at", "decision_by":
							want = dueText
						case "expires_at":
							// A voucher ending at midnight on 31 March is valid
							// through 30 March: the one wording of i18n.ValidUntil.
							want = map[string]string{"it": "valido fino al 30 marzo 2026 (incluso)",
								"en": "valid until 30 March 2026 (inclusive)"}[lang]
						case "reason":
							if part == "html" {
								want = "ISEE oltre la soglia &lt;b&gt;del fondo&lt;/b&gt;"
							} else {
								want = "ISEE oltre la soglia <b>del fondo</b>"
							}
						case "question":
							if part == "html" {
								want = "Allegare l&#39;ultima attestazione ISEE"
							} else {
								want = "Allegare l'ultima attestazione ISEE"
							}
						default:
							want = fullData()[k].(string)
						}
						if !strings.Contains(body, want) {
							t.Errorf("%s part lacks %s = %q:\n%s", part, k, want, body)
						}
					}
				}
				if kind == KindApplicationReceived && !strings.Contains(msg.Text, "01:30") {
					t.Errorf("submission time not in Rome time:\n%s", msg.Text)
				}
				if !strings.HasPrefix(msg.HTML, "<!DOCTYPE html>") || !strings.Contains(msg.HTML, `<html lang="`+lang+`">`) {
					t.Errorf("html part:\n%s", msg.HTML)
				}
				if strings.Contains(msg.Text, "\n\n\n") || strings.Contains(msg.Text, "<no value>") || strings.Contains(msg.HTML, "<no value>") {
					t.Errorf("text part:\n%s", msg.Text)
				}
			})
		}
	}
}

func TestRenderMissingDataAndUnknownKind(t *testing.T) {
	for _, kind := range Kinds {
		for _, k := range append([]string{"name", "case_number", "portal_url"}, required[kind]...) {
			d := fullData()
			delete(d, k)
			if _, err := Render(kind, "it", d); err == nil {
				t.Errorf("%s without %s rendered", kind, k)
			}
		}
	}
	if _, err := Render("nonsense", "it", fullData()); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Errorf("unknown kind: %v", err)
	}
	d := fullData()
	d["amount_cents"] = "550"
	if _, err := Render(KindApproved, "it", d); err == nil {
		t.Error("a string amount rendered")
	}
	d = fullData()
	d["due_at"] = "tomorrow"
	if _, err := Render(KindStaffReminder, "en", d); err == nil {
		t.Error("an unparseable date rendered")
	}
}

func TestRenderDefaultsAndOptionalKeys(t *testing.T) {
	d := fullData()
	d["to"], d["to_name"], d["key"], d["path"] = "maria@example.org", "Maria Rossi", "case:BS-2026-000123:approved", "/cases/BS-2026-000123"
	msg, err := Render(KindApproved, "", d)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Lang != "it" || msg.To != "maria@example.org" || msg.ToName != "Maria Rossi" || msg.Key != "case:BS-2026-000123:approved" {
		t.Errorf("message %+v", msg)
	}
	if !strings.Contains(msg.Text, "http://127.0.0.1:8080/cases/BS-2026-000123") {
		t.Errorf("link:\n%s", msg.Text)
	}
	for in, want := range map[string]string{"en-GB": "en", "EN_us": "en", "de": "it", "it-IT": "it"} {
		if got := NormalizeLang(in); got != want {
			t.Errorf("NormalizeLang(%q) = %q", in, got)
		}
	}
	d["path"] = "javascript:alert(1)"
	d["portal_url"] = "javascript:alert(1)"
	msg, err = Render(KindApproved, "it", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(msg.HTML, `href="javascript:`) {
		t.Error("javascript: URL in an href")
	}
}

func TestFormatEuro(t *testing.T) {
	for _, c := range []struct {
		lang  string
		cents any
		want  string
	}{
		{"it", 55000, "550,00 €"}, {"it", int64(123456789), "1.234.567,89 €"}, {"it", 5, "0,05 €"},
		{"it", -1050, "-10,50 €"}, {"en", uint32(100000), "€1,000.00"}, {"en", 0, "€0.00"},
	} {
		got, err := FormatEuro(c.lang, c.cents)
		if err != nil || got != c.want {
			t.Errorf("FormatEuro(%s, %v) = %q, %v; want %q", c.lang, c.cents, got, err, c.want)
		}
	}
	if _, err := FormatEuro("it", 5.5); err == nil {
		t.Error("a float accepted as cents")
	}
}

func TestConfigFromEnv(t *testing.T) {
	c := ConfigFromEnv(func(string) string { return "" })
	if c.Host != "127.0.0.1" || c.Port != 1025 || c.From != "sportello@ambito-tradate.example" || c.TLS != "none" || c.Username != "" {
		t.Errorf("defaults %+v", c)
	}
	env := map[string]string{
		"SPORTELLO_SMTP_HOST": "smtp.example.org", "SPORTELLO_SMTP_PORT": "587", "SPORTELLO_SMTP_FROM": "noreply@comune.example",
		"SPORTELLO_SMTP_FROM_NAME": "Comune", "SPORTELLO_SMTP_USERNAME": "u", "SPORTELLO_SMTP_PASSWORD": "p", "SPORTELLO_SMTP_TLS": "STARTTLS",
	}
	c = ConfigFromEnv(func(k string) string { return env[k] })
	if c.Host != "smtp.example.org" || c.Port != 587 || c.From != "noreply@comune.example" || c.FromName != "Comune" ||
		c.Username != "u" || c.Password != "p" || c.TLS != "starttls" {
		t.Errorf("from env %+v", c)
	}
	if _, err := NewMailer(c); err != nil {
		t.Errorf("NewMailer: %v", err)
	}
	for _, bad := range []Config{{TLS: "ssl"}, {Port: 70000}, {Port: -1}, {From: "not an address"}} {
		if _, err := NewMailer(bad); err == nil {
			t.Errorf("NewMailer(%+v) accepted", bad)
		}
	}
}

func TestMessageID(t *testing.T) {
	a, b := MessageID("case:BS-2026-000123:approved"), MessageID("case.BS-2026-000123.approved")
	if a == b || a != MessageID("case:BS-2026-000123:approved") {
		t.Errorf("ids %q %q", a, b)
	}
	if a != "case=3ABS-2026-000123=3Aapproved@sportello.local" {
		t.Errorf("id %q", a)
	}
	if long := MessageID(strings.Repeat("x", 300)); len(long) > 100 {
		t.Errorf("long key id %q", long)
	}
}

func catcher(t *testing.T) (*mailcatcher.Catcher, *Mailer) {
	t.Helper()
	c, err := mailcatcher.Start(context.Background(), "127.0.0.1:0", mailcatcher.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_, port, _ := net.SplitHostPort(c.Addr())
	p, _ := strconv.Atoi(port)
	cfg := ConfigFromEnv(func(string) string { return "" })
	cfg.Port = p
	m, err := NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func TestSendReachesARealSMTPServer(t *testing.T) {
	c, m := catcher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	d := fullData()
	d["to"], d["to_name"], d["key"] = "maria.rossi@example.org", "Maria Rossì", "case:BS-2026-000123:approved"
	msg, err := Render(KindApproved, "it", d)
	if err != nil {
		t.Fatal(err)
	}
	msg.Subject += " – è così" // accents and a dash in the subject
	if err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitFor(ctx, func(cm mailcatcher.Captured) bool { return cm.Subject == msg.Subject })
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "sportello@ambito-tradate.example" || len(got.To) != 1 || got.To[0] != "maria.rossi@example.org" {
		t.Errorf("envelope %q → %q", got.From, got.To)
	}
	if got.HeaderTo != "Maria Rossì <maria.rossi@example.org>" || got.HeaderFrom != "Sportello sociale <sportello@ambito-tradate.example>" {
		t.Errorf("headers To %q From %q", got.HeaderTo, got.HeaderFrom)
	}
	wantID := "<case=3ABS-2026-000123=3Aapproved@sportello.local>"
	if got.MessageID != wantID {
		t.Errorf("Message-ID %q, want %q", got.MessageID, wantID)
	}
	if ct := strings.Join(got.Header["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	if lang := strings.Join(got.Header["Content-Language"], ""); lang != "it" {
		t.Errorf("Content-Language %q", lang)
	}
	norm := func(s string) string { return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }
	if norm(got.Text) != norm(msg.Text) {
		t.Errorf("text part:\n%q\nwant\n%q", got.Text, msg.Text)
	}
	if norm(got.HTML) != norm(msg.HTML) {
		t.Errorf("html part differs:\n%s", got.HTML)
	}
	if !strings.Contains(got.Text, "550,00 €") {
		t.Errorf("amount missing from the text part:\n%s", got.Text)
	}

	// A retry of the same notification carries the same Message-ID.
	if err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cm := range c.Messages() {
		if cm.MessageID == wantID {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d messages with Message-ID %s, want 2", n, wantID)
	}
	// Without a key, a fresh one.
	msg.Key = ""
	msg.Subject = "senza chiave"
	if err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got, err := c.WaitFor(ctx, func(cm mailcatcher.Captured) bool { return cm.Subject == "senza chiave" }); err != nil || got.MessageID == "" || got.MessageID == wantID {
		t.Errorf("keyless Message-ID %q (%v)", got.MessageID, err)
	}
}

func TestSendInvalidRecipientIsPermanent(t *testing.T) {
	_, m := catcher(t)
	for _, to := range []string{"", "not an address"} {
		err := m.Send(context.Background(), Message{To: to, Subject: "x", Text: "x"})
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("To %q: %v", to, err)
		}
	}
}

// stub is an SMTP server that answers RCPT with a fixed reply.
func stub(t *testing.T, rcptReply string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				fmt.Fprint(conn, "220 stub ESMTP\r\n")
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
					case "EHLO":
						fmt.Fprint(conn, "250-stub\r\n250 8BITMIME\r\n")
					case "RCPT":
						fmt.Fprint(conn, rcptReply+"\r\n")
					case "QUIT":
						fmt.Fprint(conn, "221 bye\r\n")
						return
					default:
						fmt.Fprint(conn, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func stubMailer(t *testing.T, port int) *Mailer {
	t.Helper()
	m, err := NewMailer(Config{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendErrorClassification(t *testing.T) {
	msg := Message{To: "nessuno@example.org", Subject: "x", Text: "x", Key: "k"}
	ctx := context.Background()

	err := stubMailer(t, stub(t, "550 5.1.1 No such user")).Send(ctx, msg)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "550") {
		t.Errorf("550 on RCPT: %v", err)
	}
	err = stubMailer(t, stub(t, "451 4.3.0 Try again later")).Send(ctx, msg)
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("451 on RCPT: %v", err)
	}

	// Nobody listening: a transient error, quickly.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	start := time.Now()
	err = stubMailer(t, port).Send(ctx, msg)
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("connection refused: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("refused connection took %s", time.Since(start))
	}
	// A cancelled context stops the send.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := stubMailer(t, stub(t, "250 ok")).Send(cctx, msg); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("cancelled context: %v", err)
	}
}
