package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
)

func clientOptions(hostPort, namespace string) client.Options {
	return client.Options{HostPort: hostPort, Namespace: namespace}
}

func execCommand(ctx context.Context, bin string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, bin, args...)
}

// ControlSocket is the Unix socket of a running supervisor in dir.
func ControlSocket(dir string) string { return filepath.Join(dir, "control.sock") }

// ServeControl serves the supervisor's control API on ControlSocket until
// ctx ends: GET /status, POST /kill/NAME (SIGKILL), /stop/NAME (SIGTERM),
// /start/NAME and /restart/NAME (SIGKILL, then start). Only the owner of
// the state folder can reach the socket (0600).
func (c *Cluster) ServeControl(ctx context.Context) error {
	path := ControlSocket(c.opts.Dir)
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.Status())
	})
	act := func(f func(r *http.Request, name string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := f(r, r.PathValue("name")); err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			_, _ = io.WriteString(w, "ok\n")
		}
	}
	mux.HandleFunc("POST /kill/{name}", act(func(_ *http.Request, n string) error { return c.Kill(n) }))
	mux.HandleFunc("POST /stop/{name}", act(func(_ *http.Request, n string) error { return c.Halt(n) }))
	mux.HandleFunc("POST /start/{name}", act(func(r *http.Request, n string) error { return c.Run(r.Context(), n) }))
	mux.HandleFunc("POST /restart/{name}", act(func(r *http.Request, n string) error {
		if err := c.Kill(n); err != nil {
			return err
		}
		return c.Run(r.Context(), n)
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err = srv.Serve(ln)
	_ = os.Remove(path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Control sends one command to the supervisor running in dir: "status",
// or "kill", "stop", "start", "restart" with a process name. It returns
// the answer's text.
func Control(ctx context.Context, dir, command, name string) (string, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", ControlSocket(dir))
	}}}
	method, path := http.MethodPost, "/"+command+"/"+name
	switch command {
	case "status":
		method, path = http.MethodGet, "/status"
	case "kill", "stop", "start", "restart":
		if name == "" {
			return "", fmt.Errorf("%s: which process? (see status)", command)
		}
	default:
		return "", fmt.Errorf("unknown cluster command %q", command)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://supervisor"+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("no cluster running in %s (%w)", dir, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(strings.TrimSpace(string(body)))
	}
	if command != "status" {
		return string(body), nil
	}
	var st []ProcStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return "", err
	}
	return FormatStatus(st), nil
}

// FormatStatus is the status as a table.
func FormatStatus(st []ProcStatus) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-20s %-8s %8s %7s %8s  %s\n", "PROCESS", "STATE", "PID", "STARTS", "CRASHES", "LOG")
	for _, s := range st {
		state := "down"
		if s.Running {
			state = "running"
		}
		fmt.Fprintf(&sb, "%-20s %-8s %8d %7d %8d  %s\n", s.Name, state, s.PID, s.Starts, s.Crashes, s.Log)
	}
	return sb.String()
}
