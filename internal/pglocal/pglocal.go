// Package pglocal runs a private PostgreSQL cluster in a folder: initialised
// on first use, listening on 127.0.0.1 only (trust authentication on loopback
// and on a unix socket kept inside the folder, so nothing clashes with a
// system cluster), and stopped with a fast shutdown.
//
// PostgreSQL refuses to run as root; when the caller is root the cluster runs
// as the "postgres" OS user and the folder is handed over to it.
package pglocal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Options configure a cluster.
type Options struct {
	// Dir is the data folder. It is created and initialised when missing or
	// empty; an initialised folder is reused as is.
	Dir string
	// Port is the TCP port on 127.0.0.1 (required).
	Port int
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
	// Ephemeral trades durability for speed (fsync off, no full page
	// writes, asynchronous commit). Only for throw-away test clusters.
	Ephemeral bool
	// StartTimeout bounds how long Start waits for the server to accept
	// connections (default 60s).
	StartTimeout time.Duration
}

// Cluster is a running cluster.
type Cluster struct {
	dir  string
	port int
	logf func(string, ...any)

	cmd    *exec.Cmd     // nil when an already running server was reused
	exited chan struct{} // closed when cmd has exited
	log    *os.File

	stopOnce sync.Once
	stopErr  error
}

// DefaultUser is the superuser created by initdb.
const DefaultUser = "postgres"

// Start initialises the folder if needed, starts the server (or reuses one
// already running from this folder) and waits until it accepts connections.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is required")
	}
	if opts.Port <= 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pglocal: invalid port %d", opts.Port)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	c := &Cluster{dir: dir, port: opts.Port, logf: logf}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	owner, err := runAs()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pglocal: create %s: %w", dir, err)
	}
	if owner != nil {
		if err := makeTraversable(filepath.Dir(dir), logf); err != nil {
			return nil, err
		}
	}

	initialised := fileExists(filepath.Join(dir, "PG_VERSION"))
	if !initialised {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("pglocal: read %s: %w", dir, err)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("pglocal: %s is neither empty nor a PostgreSQL data folder", dir)
		}
	}
	if owner != nil {
		if err := chownTree(dir, owner, !initialised); err != nil {
			return nil, err
		}
	}
	if !initialised {
		logf("pglocal: initialising a new cluster in %s", dir)
		if err := c.initdb(ctx, bin, owner); err != nil {
			return nil, err
		}
	}

	// Reuse a server already running from this folder.
	if pid, port, ok := readPostmasterPID(dir); ok && processAlive(pid) {
		if port != opts.Port {
			return nil, fmt.Errorf("pglocal: a server (pid %d) is already running from %s on port %d, not %d", pid, dir, port, opts.Port)
		}
		if err := c.waitReady(ctx, opts.StartTimeout, nil); err != nil {
			return nil, fmt.Errorf("pglocal: a server (pid %d) is running from %s but does not answer: %w", pid, dir, err)
		}
		logf("pglocal: reusing the server already running from %s (pid %d) on port %d", dir, pid, port)
		return c, nil
	}

	// The port may be taken for a moment by the local end of some outgoing
	// connection (ports above 32767 are in Linux's ephemeral range): retry a
	// few times before giving up.
	const attempts = 5
	for attempt := 1; ; attempt++ {
		c := &Cluster{dir: dir, port: opts.Port, logf: logf}
		if err := c.start(ctx, bin, owner, opts); err != nil {
			return nil, err
		}
		err := c.waitReady(ctx, opts.StartTimeout, c.exited)
		if err == nil {
			logf("pglocal: PostgreSQL ready on 127.0.0.1:%d (data in %s)", opts.Port, dir)
			return c, nil
		}
		_ = c.Stop()
		tail := c.logTail(30)
		busy := strings.Contains(lastStart(tail), "Address already in use")
		if !busy || attempt == attempts || ctx.Err() != nil {
			hint := ""
			if busy {
				hint = fmt.Sprintf("\nport %d on 127.0.0.1 is in use by another program: choose another port", opts.Port)
			}
			return nil, fmt.Errorf("pglocal: server in %s did not start: %w%s\n%s", dir, err, hint, tail)
		}
		logf("pglocal: port %d is busy, retrying (%d/%d)", opts.Port, attempt, attempts-1)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// lastStart is the part of a log tail written by the latest start.
func lastStart(tail string) string {
	if i := strings.LastIndex(tail, startMarker); i >= 0 {
		return tail[i:]
	}
	return tail
}

const startMarker = "---- pglocal: starting PostgreSQL"

// Dir is the data folder.
func (c *Cluster) Dir() string { return c.dir }

// Port is the TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// LogPath is the server log file (empty when the server was reused).
func (c *Cluster) LogPath() string {
	if c.log == nil {
		return ""
	}
	return c.log.Name()
}

// URL is the connection URL of database db as the superuser.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(DefaultUser),
		Host:     "127.0.0.1:" + strconv.Itoa(c.port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop shuts the server down (fast shutdown: sessions are terminated,
// everything committed is kept) and waits for it to exit. It also stops a
// server that Start reused. Calling Stop again returns the first result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	defer func() {
		if c.log != nil {
			_ = c.log.Close()
		}
	}()
	if c.cmd != nil {
		select {
		case <-c.exited:
			return nil
		default:
		}
		_ = c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-c.exited:
			c.logf("pglocal: PostgreSQL stopped")
			return nil
		case <-time.After(60 * time.Second):
		}
		_ = c.cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
		select {
		case <-c.exited:
			return errors.New("pglocal: fast shutdown timed out, used immediate shutdown")
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
			return errors.New("pglocal: server killed after shutdown timed out")
		}
	}
	pid, _, ok := readPostmasterPID(c.dir)
	if !ok || !processAlive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("pglocal: stop pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !processAlive(pid) {
			c.logf("pglocal: PostgreSQL stopped")
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("pglocal: server pid %d still running after 60s", pid)
}

// BinDir finds the PostgreSQL server binaries: the highest version under
// /usr/lib/postgresql/*/bin (Debian, Ubuntu), else the folder of initdb on
// PATH.
func BinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	type cand struct {
		dir     string
		version float64
	}
	var cands []cand
	for _, m := range matches {
		d := filepath.Dir(m)
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if err != nil {
			continue
		}
		if fileExists(filepath.Join(d, "initdb")) {
			cands = append(cands, cand{d, v})
		}
	}
	if len(cands) > 0 {
		sort.Slice(cands, func(i, j int) bool { return cands[i].version > cands[j].version })
		return cands[0].dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if fileExists(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("pglocal: PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH); " +
		"install them with `apt-get install -y postgresql` or `make deps`")
}

// owner is the OS identity the server runs as when we are root.
type owner struct {
	uid, gid uint32
}

// runAs returns the postgres user when running as root, nil otherwise.
func runAs() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root needs the 'postgres' OS user (created by Debian's postgresql package): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: postgres gid %q: %w", u.Gid, err)
	}
	return &owner{uid: uint32(uid), gid: uint32(gid)}, nil
}

// sysProcAttr puts the server in its own process group (a Ctrl-C in the
// terminal reaches only our process, which stops the stack in order), asks
// the kernel to stop it if we die, and switches identity when root.
func sysProcAttr(o *owner, pdeath bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if pdeath {
		a.Pdeathsig = syscall.SIGINT
	}
	if o != nil {
		a.Credential = &syscall.Credential{Uid: o.uid, Gid: o.gid, Groups: []uint32{}}
	}
	return a
}

func (c *Cluster) initdb(ctx context.Context, bin string, o *owner) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"--pgdata", c.dir,
		"--username", DefaultUser,
		"--auth", "trust",
		"--encoding", "UTF8",
		"--locale", "C",
	)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = sysProcAttr(o, true)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pglocal: initdb %s: %w\n%s", c.dir, err, out.String())
	}
	// Trust only local connections: the unix socket in the data folder and
	// loopback TCP. The server also listens on 127.0.0.1 only.
	hba := "# Written by sportello/internal/pglocal: local development and tests only.\n" +
		"local all all trust\n" +
		"host all all 127.0.0.1/32 trust\n" +
		"host all all ::1/128 trust\n" +
		"local replication all trust\n" +
		"host replication all 127.0.0.1/32 trust\n"
	path := filepath.Join(c.dir, "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hba), 0o600); err != nil {
		return fmt.Errorf("pglocal: write pg_hba.conf: %w", err)
	}
	if o != nil {
		if err := os.Chown(path, int(o.uid), int(o.gid)); err != nil {
			return fmt.Errorf("pglocal: chown pg_hba.conf: %w", err)
		}
	}
	return nil
}

func (c *Cluster) start(ctx context.Context, bin string, o *owner, opts Options) error {
	logPath := filepath.Join(c.dir, "server.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("pglocal: open log: %w", err)
	}
	c.log = f
	socketDir := c.dir
	if len(socketDir)+len("/.s.PGSQL.65535.lock") > 100 {
		socketDir = "" // too long for a unix socket path: TCP only
	}
	args := []string{
		"-D", c.dir,
		"-p", strconv.Itoa(opts.Port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + socketDir,
		"-c", "max_connections=200",
		"-c", "shared_buffers=64MB",
		"-c", "log_min_messages=warning",
		"-c", "log_timezone=UTC",
	}
	if opts.Ephemeral {
		args = append(args,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
		)
	}
	fmt.Fprintf(f, "%s at %s ----\n", startMarker, time.Now().Format(time.RFC3339))
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr(o, true)
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("pglocal: start postgres: %w", err)
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return nil
}

// waitReady polls until the server accepts a connection, the timeout
// passes, ctx ends, or exited is closed.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		attempt, stop := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(attempt, c.URL("postgres"))
		stop()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("server exited: %w", last)
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) logTail(n int) string {
	data, err := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "server log (" + filepath.Join(c.dir, "server.log") + "):\n" + strings.Join(lines, "\n")
}

// childEnv is a minimal environment for the server: a foreign HOME or
// locale of the caller must not leak into it.
func childEnv() []string {
	env := []string{"LC_ALL=C", "LANG=C", "TZ=UTC"}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	return env
}

// readPostmasterPID reads the pid and port of the server running from dir.
func readPostmasterPID(dir string) (pid, port int, ok bool) {
	f, err := os.Open(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() && len(lines) < 4 {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 4 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(lines[0])
	port, err2 := strconv.Atoi(lines[3])
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, 0, false
	}
	return pid, port, true
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// chownTree hands dir (and, when it already holds data owned by someone
// else, everything inside) to the server's user.
func chownTree(dir string, o *owner, empty bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && st.Uid == o.uid && st.Gid == o.gid {
		return nil
	}
	if empty {
		return os.Chown(dir, int(o.uid), int(o.gid))
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(o.uid), int(o.gid))
	})
}

// makeTraversable lets the server's user reach the data folder: every
// ancestor without the "others may traverse" bit gets it (x only: nothing
// becomes listable or readable).
func makeTraversable(dir string, logf func(string, ...any)) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			logf("pglocal: adding o+x to %s so that the postgres user can reach the data folder", d)
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("pglocal: make %s traversable for the postgres user: %w", d, err)
			}
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}

// FreePort returns a TCP port of 127.0.0.1 that is free at the moment (for
// Options.Port, and for the other servers of a test or dev stack).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
