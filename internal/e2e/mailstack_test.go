package e2e

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"sportello/internal/mailcatcher"
	"sportello/internal/notify"
	"sportello/worker"
)

// mailInbox is a real SMTP server on loopback (the platform's mail catcher)
// that a test stack's worker sends through.
type mailInbox struct {
	t       *testing.T
	ctx     context.Context
	catcher *mailcatcher.Catcher
}

// newMailStack starts a mail catcher and a stack whose worker sends its
// e-mails to it; both stop with the test.
func newMailStack(t *testing.T) (*stack, *mailInbox) {
	t.Helper()
	inbox, smtp := startCatcher(t)
	m, err := worker.NewMailer(smtp)
	if err != nil {
		t.Fatal(err)
	}
	return newStackWith(t, m), inbox
}

// startCatcher starts a mail catcher on loopback for the test: its inbox and
// the SMTP settings that reach it.
func startCatcher(t *testing.T) (*mailInbox, notify.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	catcher, err := mailcatcher.Start(ctx, "127.0.0.1:0", mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	host, port, _ := net.SplitHostPort(catcher.Addr())
	p, _ := strconv.Atoi(port)
	return &mailInbox{t: t, ctx: ctx, catcher: catcher}, notify.Config{Host: host, Port: p, From: "sportello@ambito-tradate.example", TLS: "none"}
}

// wait returns the first message that matches, failing the test when none
// arrives within a minute.
func (in *mailInbox) wait(what string, match func(mailcatcher.Captured) bool) mailcatcher.Captured {
	in.t.Helper()
	wctx, cancel := context.WithTimeout(in.ctx, 60*time.Second)
	defer cancel()
	msg, err := in.catcher.WaitFor(wctx, match)
	if err != nil {
		in.t.Fatalf("no e-mail %s: %v (got %d messages)", what, err, len(in.catcher.Messages()))
	}
	return msg
}
