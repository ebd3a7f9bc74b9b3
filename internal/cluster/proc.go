package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procSpec describes one child process of the cluster.
type procSpec struct {
	name  string
	bin   string
	args  []string
	env   []string
	dir   string
	log   string                          // log file (appended)
	ready func(ctx context.Context) error // nil: started is ready
}

// proc is a supervised child: started, watched (started again when it ends
// on its own), killed and started again on request.
type proc struct {
	spec   procSpec
	logger *slog.Logger

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	wanted   bool // false after Kill or Stop: its end is no crash
	starts   int
	crashes  int
	stopping bool // the cluster is stopping: never start again
}

// ProcStatus is what Status tells about one process.
type ProcStatus struct {
	Name    string `json:"name"`
	PID     int    `json:"pid"` // 0: not running
	Running bool   `json:"running"`
	Starts  int    `json:"starts"`
	Crashes int    `json:"crashes"` // ends nobody asked for (each followed by a new start)
	Log     string `json:"log"`
}

func (p *proc) status() ProcStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := ProcStatus{Name: p.spec.name, Starts: p.starts, Crashes: p.crashes, Log: p.spec.log}
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			s.Running, s.PID = true, p.cmd.Process.Pid
		}
	}
	return s
}

// start starts the process (when it is not running) and waits for its
// readiness check.
func (p *proc) start(ctx context.Context) error {
	if err := p.launch(); err != nil {
		return err
	}
	if p.spec.ready == nil {
		return nil
	}
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		err := p.spec.ready(rctx)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited while starting (log: %s): %v", p.spec.name, p.spec.log, err)
		case <-rctx.Done():
			return fmt.Errorf("%s not ready (log: %s): %v", p.spec.name, p.spec.log, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *proc) launch() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return errors.New("the cluster is stopping")
	}
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			p.wanted = true
			return nil // already running
		}
	}
	f, err := os.OpenFile(p.spec.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "---- cluster: start %s %s at %s\n", p.spec.bin, strings.Join(p.spec.args, " "), time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.spec.bin, p.spec.args...)
	cmd.Env = p.spec.env
	cmd.Dir = p.spec.dir
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group (a Ctrl-C reaches the supervisor only, which
	// stops everything in order); killed by the kernel if we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start %s: %w", p.spec.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.wanted = cmd, done, true
	p.starts++
	go p.watch(cmd, done, f)
	return nil
}

// watch waits for cmd; an end nobody asked for is a crash, and the process
// is started again a second later.
func (p *proc) watch(cmd *exec.Cmd, done chan struct{}, f *os.File) {
	err := cmd.Wait()
	fmt.Fprintf(f, "---- cluster: %s ended at %s: %v\n", p.spec.name, time.Now().Format(time.RFC3339Nano), err)
	_ = f.Close()
	close(done)
	p.mu.Lock()
	crashed := p.wanted && p.cmd == cmd && !p.stopping
	if crashed {
		p.crashes++
	}
	p.mu.Unlock()
	if !crashed {
		return
	}
	p.logger.Warn("process ended on its own; starting it again", "name", p.spec.name, "err", err, "log", p.spec.log)
	time.Sleep(time.Second)
	p.mu.Lock()
	again := p.wanted && p.cmd == cmd && !p.stopping
	p.mu.Unlock()
	if again {
		if err := p.launch(); err != nil {
			p.logger.Error("restart", "name", p.spec.name, "err", err)
		}
	}
}

// signal sends sig and waits (up to wait, then SIGKILL) for the end; the
// process is not started again.
func (p *proc) signal(sig syscall.Signal, wait time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.wanted = false
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
	}
}

// stop ends the process for good (SIGTERM, SIGKILL after 20s).
func (p *proc) stop() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	p.signal(syscall.SIGTERM, 20*time.Second)
}
