package devstack

import (
	"context"
	"io"
	"net/http"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"sportello/internal/mailcatcher"
)

func TestMailCatcherServesInbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mc, err := StartMailCatcher(ctx, MailOptions{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Stop()
	if _, err := StartMailCatcher(ctx, MailOptions{SMTPAddr: "127.0.0.1:0", HTTPAddr: "0.0.0.0:0"}); err == nil {
		t.Error("web inbox on a public address accepted")
	}
	msg := "Subject: Prova dello stack\r\n\r\nciao\r\n"
	if err := smtp.SendMail(mc.SMTPAddr(), nil, "a@example.org", []string{"b@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := mc.Catcher.WaitFor(wctx, func(m mailcatcher.Captured) bool { return m.Subject == "Prova dello stack" }); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(mc.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Prova dello stack") {
		t.Errorf("inbox:\n%s", body)
	}
	if err := mc.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := http.Get(mc.URL() + "/"); err == nil {
		t.Error("inbox still served after Stop")
	}
}
