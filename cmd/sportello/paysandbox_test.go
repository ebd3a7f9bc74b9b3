package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPaymentsConfig(t *testing.T) {
	c := mustConfig(t, nil)
	if c.PaymentsURL != "http://127.0.0.1:8090" || c.PaymentsSecret == "" {
		t.Fatalf("defaults: %q %q", c.PaymentsURL, c.PaymentsSecret)
	}
	c, err := loadConfig(envOf(map[string]string{"SPORTELLO_PAYMENTS_URL": "https://psp.example/api/", "SPORTELLO_PAYMENTS_SECRET": "s3"}))
	if err != nil || c.PaymentsURL != "https://psp.example/api" || c.PaymentsSecret != "s3" {
		t.Fatalf("set: %+v %v", c, err)
	}
	if _, err := loadConfig(envOf(map[string]string{"SPORTELLO_PAYMENTS_URL": "psp.example"})); err == nil {
		t.Fatal("a URL without scheme was accepted")
	}
	if _, err := paySandboxAddr("https://psp.example/api"); err == nil {
		t.Fatal("the sandbox would start for a remote provider")
	}
	if !strings.HasPrefix(paySandboxBanner(c), "off: payments go to https://psp.example/api") {
		t.Fatalf("banner: %q", paySandboxBanner(c))
	}
}

// TestDevStartsPaySandbox: dev's sandbox serves on the configured loopback
// port, shows in the banner and stops cleanly.
func TestDevStartsPaySandbox(t *testing.T) {
	addr := freeAddr(t)
	c := mustConfig(t, map[string]string{"SPORTELLO_PAYMENTS_URL": "http://" + addr})
	stop := startPaySandbox(context.Background(), &c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if stop == nil {
		t.Fatal("sandbox not started")
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	var out bytes.Buffer
	printBanner(&out, c, "127.0.0.1:8080", "/tmp/data", time.Second)
	if !bannerHas(out.String(), "Pagamenti (sandbox)", "http://"+addr) {
		t.Fatalf("banner:\n%s", out.String())
	}
	stop()
	if _, err := hc.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after stop")
	}
}

// bannerHas reports whether one line of the banner has both label and value.
func bannerHas(banner, label, value string) bool {
	for line := range strings.SplitSeq(banner, "\n") {
		if strings.Contains(line, label) && strings.Contains(line, value) {
			return true
		}
	}
	return false
}

// TestListenLoopbackHints (D5): the dev services' one way to listen on a
// loopback address: a taken port and an address off loopback are logged,
// the first with the hint to set the variable to a free loopback port, and
// nothing listens; a free one listens.
func TestListenLoopbackHints(t *testing.T) {
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if ln := listenLoopback(logger, "test service", "SPORTELLO_X_URL", "http://"+taken.Addr().String(), slog.LevelWarn); ln != nil {
		ln.Close()
		t.Fatal("listening on a taken port")
	}
	if !strings.Contains(log.String(), "test service not started (set SPORTELLO_X_URL to a free loopback port)") {
		t.Fatalf("no hint for a taken port: %s", log.String())
	}
	log.Reset()
	if ln := listenLoopback(logger, "test service", "SPORTELLO_X_URL", "http://psp.example:80", slog.LevelInfo); ln != nil {
		ln.Close()
		t.Fatal("listening off loopback")
	}
	if !strings.Contains(log.String(), "level=INFO") || !strings.Contains(log.String(), "not on loopback") {
		t.Fatalf("the refusal of an address off loopback: %s", log.String())
	}
	ln := listenLoopback(logger, "test service", "SPORTELLO_X_URL", "http://"+freeAddr(t), slog.LevelWarn)
	if ln == nil {
		t.Fatal("not listening on a free loopback port")
	}
	ln.Close()
}
