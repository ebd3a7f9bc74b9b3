package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"sportello/internal/mailcatcher"
)

// MailOptions configure the local mail catcher of `sportello dev`.
type MailOptions struct {
	SMTPAddr string // loopback host:port of the SMTP server, default 127.0.0.1:1025
	HTTPAddr string // loopback host:port of the web inbox, default 127.0.0.1:8025
	Dir      string // where messages are kept as .eml files (optional)
	Logger   *slog.Logger
}

// MailCatcher is the running catcher and its web inbox.
type MailCatcher struct {
	Catcher *mailcatcher.Catcher
	srv     *http.Server
	url     string
	served  chan struct{}
	logger  *slog.Logger

	stopOnce sync.Once
	stopErr  error
}

// StartMailCatcher starts the SMTP catcher and serves its inbox over HTTP.
// Both addresses must be loopback: the inbox shows every message.
func StartMailCatcher(ctx context.Context, o MailOptions) (*MailCatcher, error) {
	if o.SMTPAddr == "" {
		o.SMTPAddr = "127.0.0.1:1025"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:8025"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(o.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("mail catcher web inbox address %q: %w", o.HTTPAddr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("mail catcher web inbox: %q is not a loopback address", o.HTTPAddr)
	}
	c, err := mailcatcher.Start(ctx, o.SMTPAddr, mailcatcher.Options{
		Dir:  o.Dir,
		Logf: func(format string, args ...any) { o.Logger.Debug(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("mail catcher web inbox: listen on %s: %w", o.HTTPAddr, err)
	}
	m := &MailCatcher{
		Catcher: c,
		srv: &http.Server{
			Handler:           c.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		url:    "http://" + ln.Addr().String(),
		served: make(chan struct{}),
		logger: o.Logger,
	}
	go func() {
		defer close(m.served)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("mail catcher web inbox", "err", err)
		}
	}()
	o.Logger.Info("mail catcher started", "smtp", c.Addr(), "inbox", m.url)
	return m, nil
}

// SMTPAddr is the host:port the catcher accepts mail on.
func (m *MailCatcher) SMTPAddr() string { return m.Catcher.Addr() }

// URL is the web inbox.
func (m *MailCatcher) URL() string { return m.url }

// Stop closes the web inbox and the SMTP server (once; later calls return
// the first result).
func (m *MailCatcher) Stop() error {
	m.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := m.srv.Shutdown(ctx)
		<-m.served
		m.stopErr = errors.Join(err, m.Catcher.Close())
		m.logger.Info("mail catcher stopped")
	})
	return m.stopErr
}
