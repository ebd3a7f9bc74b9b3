// Package devstack runs the single-machine stack of `sportello dev`: the
// Temporal CLI dev server as a child process (state in a SQLite file, Web UI
// included) and helpers to wait for Temporal and to create a database.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
)

// TemporalOptions configure the dev server.
type TemporalOptions struct {
	Bin       string // Temporal CLI executable
	DBFile    string // SQLite state file (kept across restarts)
	LogFile   string // server output (appended)
	IP        string // default 127.0.0.1
	Port      int    // frontend gRPC port, default 7233
	UIPort    int    // Web UI port, default 8233
	Namespace string // created at start-up, default "default"
	LogLevel  string // default warn
	Logger    *slog.Logger
	// ClientOptions are used to check readiness (HostPort and Namespace are
	// filled in).
	ClientOptions client.Options
	// ReadyTimeout bounds the wait for the server (default 90s).
	ReadyTimeout time.Duration
}

// TemporalServer is a running dev server.
type TemporalServer struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	address string
	uiURL   string
	log     *os.File
	logger  *slog.Logger

	stopOnce sync.Once
	stopErr  error
}

// StartTemporal starts `temporal server start-dev` and waits until it
// answers health checks.
func StartTemporal(ctx context.Context, o TemporalOptions) (*TemporalServer, error) {
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = 7233
	}
	if o.UIPort == 0 {
		o.UIPort = 8233
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 90 * time.Second
	}
	if fi, err := os.Stat(o.Bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("Temporal CLI not found at %s: build it with `make bin/temporal` (or set SPORTELLO_TEMPORAL_BIN, or TEMPORAL_ADDRESS to use a running server)", o.Bin)
	}
	address := net.JoinHostPort(o.IP, strconv.Itoa(o.Port))
	for _, p := range []int{o.Port, o.UIPort} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(o.IP, strconv.Itoa(p)), time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("port %d on %s is already in use (another Temporal server?): stop it, or set TEMPORAL_ADDRESS to use it", p, o.IP)
		}
	}
	for _, f := range []string{o.DBFile, o.LogFile} {
		if f != "" {
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return nil, err
			}
		}
	}
	args := []string{"server", "start-dev",
		"--ip", o.IP,
		"--port", strconv.Itoa(o.Port),
		"--ui-port", strconv.Itoa(o.UIPort),
		"--namespace", o.Namespace,
		"--log-level", o.LogLevel,
	}
	if o.DBFile != "" {
		args = append(args, "--db-filename", o.DBFile)
	}
	s := &TemporalServer{
		address: address,
		uiURL:   "http://" + net.JoinHostPort(o.IP, strconv.Itoa(o.UIPort)),
		exited:  make(chan struct{}),
		logger:  o.Logger,
	}
	cmd := exec.Command(o.Bin, args...)
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(f, "---- sportello: starting %s %s at %s ----\n", o.Bin, strings.Join(args, " "), time.Now().Format(time.RFC3339))
		s.log = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	// Own process group: a Ctrl-C reaches only us, and we stop the stack in
	// order. The kernel interrupts the server if we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	o.Logger.Info("starting Temporal dev server", "bin", o.Bin, "address", address, "ui", s.uiURL, "db", o.DBFile)
	if err := cmd.Start(); err != nil {
		if s.log != nil {
			_ = s.log.Close()
		}
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	copts := o.ClientOptions
	copts.HostPort = address
	copts.Namespace = o.Namespace
	waitCtx, cancel := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancel()
	c, err := waitTemporal(waitCtx, copts, s.exited)
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("Temporal dev server did not become ready (log: %s): %w", o.LogFile, err)
	}
	c.Close()
	o.Logger.Info("Temporal dev server ready", "address", address)
	return s, nil
}

// Address is the frontend host:port.
func (s *TemporalServer) Address() string { return s.address }

// UIURL is the Web UI base URL.
func (s *TemporalServer) UIURL() string { return s.uiURL }

// Stop interrupts the server and waits for it to exit (killing it after 30s).
func (s *TemporalServer) Stop() error {
	s.stopOnce.Do(func() {
		defer func() {
			if s.log != nil {
				_ = s.log.Close()
			}
		}()
		select {
		case <-s.exited:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
			s.logger.Info("Temporal dev server stopped")
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = errors.New("temporal dev server killed after 30s")
		}
	})
	return s.stopErr
}

// WaitTemporal dials opts.HostPort until the server answers a health check
// or ctx ends, and returns the connected client.
func WaitTemporal(ctx context.Context, opts client.Options) (client.Client, error) {
	return waitTemporal(ctx, opts, nil)
}

func waitTemporal(ctx context.Context, opts client.Options, exited <-chan struct{}) (client.Client, error) {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(attempt, opts)
		if err == nil {
			_, err = c.CheckHealth(attempt, nil)
			if err == nil {
				cancel()
				return c, nil
			}
			c.Close()
		}
		cancel()
		last = err
		select {
		case <-exited:
			return nil, fmt.Errorf("server exited: %v", last)
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// EnsureDatabase creates database name on the server of adminURL when it
// does not exist yet.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
