package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestMailConfigAndBanner(t *testing.T) {
	c := mustConfig(t, nil)
	if c.SMTPHost != "" || c.SMTPAddr != "127.0.0.1:1025" || c.MailcatcherHTTP != "127.0.0.1:8025" {
		t.Errorf("mail defaults %q %q %q", c.SMTPHost, c.SMTPAddr, c.MailcatcherHTTP)
	}
	if c2, _ := loadConfig(envOf(map[string]string{"SPORTELLO_SMTP_PORT": "2525"})); c2.SMTPAddr != "127.0.0.1:2525" {
		t.Errorf("SMTPAddr follows SPORTELLO_SMTP_PORT: %q", c2.SMTPAddr)
	}
	if c2, _ := loadConfig(envOf(map[string]string{"SPORTELLO_SMTP_ADDR": "127.0.0.1:3025", "SPORTELLO_MAILCATCHER_HTTP": "127.0.0.1:9025"})); c2.SMTPAddr != "127.0.0.1:3025" || c2.MailcatcherHTTP != "127.0.0.1:9025" {
		t.Errorf("overrides %q %q", c2.SMTPAddr, c2.MailcatcherHTTP)
	}
	for host, local := range map[string]bool{"": true, "localhost": true, "127.0.0.1": true, "::1": true, "smtp.example.org": false, "10.0.0.1": false} {
		if localSMTPHost(host) != local {
			t.Errorf("localSMTPHost(%q) = %v", host, !local)
		}
	}

	c.MailURL = "http://127.0.0.1:8025"
	var out bytes.Buffer
	printBanner(&out, c, "127.0.0.1:8080", "/tmp/data", time.Second)
	if !strings.Contains(out.String(), "  Posta (mail catcher)  http://127.0.0.1:8025\n") ||
		!strings.Contains(out.String(), "  Portale web           http://127.0.0.1:8080\n") {
		t.Errorf("banner:\n%s", out.String())
	}
	c.MailURL, c.SMTPHost = "", "smtp.example.org"
	out.Reset()
	printBanner(&out, c, "127.0.0.1:8080", "/tmp/data", time.Second)
	if !strings.Contains(out.String(), "off: mail goes to smtp.example.org") {
		t.Errorf("banner without catcher:\n%s", out.String())
	}
}
