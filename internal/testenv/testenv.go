// Package testenv gives integration tests real infrastructure: a fresh,
// migrated PostgreSQL database per test and a Temporal dev server shared by
// the test process. Every package that uses it calls Main from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// PostgreSQL comes from SPORTELLO_TEST_DATABASE_URL (an admin URL of an
// existing server) or else a private cluster started under the temporary
// folder the first time a test asks for it. Temporal comes from
// SPORTELLO_TEST_TEMPORAL_ADDRESS or else a dev server started from
// SPORTELLO_TEMPORAL_BIN (default <module root>/bin/temporal). Whatever
// testenv starts, Main stops after the tests. Missing infrastructure fails
// the test with instructions; it never skips.
package testenv

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"sportello/internal/pglocal"
	"sportello/internal/store"
)

// Environment variables read by testenv.
const (
	EnvDatabaseURL     = "SPORTELLO_TEST_DATABASE_URL"
	EnvTemporalAddress = "SPORTELLO_TEST_TEMPORAL_ADDRESS"
	EnvTemporalBin     = "SPORTELLO_TEMPORAL_BIN"
)

// Namespace is the Temporal namespace tests run in.
const Namespace = "default"

// migrateLockKey serialises migrations of test databases on one server, also
// across test processes: the first migration creates a cluster-wide role,
// which concurrent migrations would race on.
const migrateLockKey = 7_346_201_550_117

var mainCalled atomic.Bool

// Main runs the tests, stops what testenv started and exits with the tests'
// code. Call it from TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if err := teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: teardown: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func requireMain(t testing.TB) {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatalf("testenv: this package must call testenv.Main from TestMain, so that servers are stopped after the tests:\n\n" +
			"\tfunc TestMain(m *testing.M) { testenv.Main(m) }")
	}
}

// ---- PostgreSQL ----

var pg struct {
	once     sync.Once
	err      error
	adminURL string
	admin    *pgxpool.Pool
	cluster  *pglocal.Cluster
	dir      string // temporary folder of the private cluster
}

func startPostgres() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		pg.adminURL = u
	} else {
		sweepStale("sportello-pg-")
		dir, err := os.MkdirTemp("", "sportello-pg-")
		if err != nil {
			pg.err = err
			return
		}
		pg.dir = dir
		var lastErr error
		for attempt := 0; attempt < 3; attempt++ {
			port, err := pglocal.FreePort()
			if err != nil {
				pg.err = err
				return
			}
			c, err := pglocal.Start(ctx, pglocal.Options{
				Dir:       filepath.Join(dir, "data-"+strconv.Itoa(attempt)),
				Port:      port,
				Ephemeral: true,
			})
			if err == nil {
				pg.cluster = c
				pg.adminURL = c.URL("postgres")
				lastErr = nil
				break
			}
			lastErr = err
		}
		if lastErr != nil {
			pg.err = lastErr
			return
		}
	}
	pool, err := pgxpool.New(ctx, pg.adminURL)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		pg.err = fmt.Errorf("connect to %s: %w", redact(pg.adminURL), err)
		return
	}
	pg.admin = pool
}

// Postgres creates a fresh database, migrates it with store.Migrate and
// opens it. The store is closed and the database dropped when the test ends.
func Postgres(t testing.TB) (url string, st *store.Store) {
	t.Helper()
	requireMain(t)
	pg.once.Do(startPostgres)
	if pg.err != nil {
		t.Fatalf("testenv: PostgreSQL is unavailable: %v\n"+
			"Install it with `make deps` (as root) or point %s at an admin URL of a running server.", pg.err, EnvDatabaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	name := "t_" + randomHex(8)
	if _, err := pg.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := pg.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	dbURL, err := withDatabase(pg.adminURL, name)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if err := migrateLocked(ctx, dbURL); err != nil {
		t.Fatalf("testenv: migrate %s: %v", name, err)
	}
	st, err = store.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("testenv: open %s: %v", name, err)
	}
	t.Cleanup(st.Close)
	// Case numbers become workflow ids, and the tests of a process share one
	// Temporal server: give every database its own range of case numbers.
	if _, err := st.Pool.Exec(ctx, fmt.Sprintf("ALTER SEQUENCE case_number_seq RESTART WITH %d", caseRange.Add(1)*10000+1)); err != nil {
		t.Fatalf("testenv: case numbers: %v", err)
	}
	return dbURL, st
}

// caseRange numbers the databases of this test process.
var caseRange atomic.Int64

func migrateLocked(ctx context.Context, dbURL string) error {
	conn, err := pg.admin.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLockKey)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrateLockKey)); err != nil {
			// A connection that still holds the lock must not go back to the pool.
			_ = conn.Conn().Close(context.Background())
		}
	}()
	return store.Migrate(ctx, dbURL)
}

// withDatabase returns adminURL pointing at database name.
func withDatabase(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL", EnvDatabaseURL)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(database url)"
	}
	return u.Redacted()
}

// ---- Temporal ----

var tmp struct {
	once    sync.Once
	err     error
	address string
	server  *testsuite.DevServer
	logDir  string
}

// TemporalBin is the Temporal CLI used to run the dev server: $SPORTELLO_TEMPORAL_BIN,
// or bin/temporal under the module root.
func TemporalBin() (string, error) {
	if p := os.Getenv(EnvTemporalBin); p != "" {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "temporal"), nil
}

// ModuleRoot is the folder holding go.mod, above the working directory (go
// test runs in the package's folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func quietLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func startTemporal() {
	if a := os.Getenv(EnvTemporalAddress); a != "" {
		tmp.address = a
		return
	}
	bin, err := TemporalBin()
	if err != nil {
		tmp.err = err
		return
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		tmp.err = fmt.Errorf("Temporal CLI not found at %s: run `make test` or `make bin/temporal` (or set %s, or %s to a running server)",
			bin, EnvTemporalBin, EnvTemporalAddress)
		return
	}
	sweepStale("sportello-temporal-")
	dir, err := os.MkdirTemp("", "sportello-temporal-")
	if err != nil {
		tmp.err = err
		return
	}
	tmp.logDir = dir
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		tmp.err = err
		return
	}
	port, err := pglocal.FreePort()
	if err != nil {
		tmp.err = err
		return
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(port)
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: bin,
		ClientOptions: &client.Options{
			HostPort:  hostPort,
			Namespace: Namespace,
			Logger:    quietLogger(),
		},
		LogLevel: "error",
		Stdout:   logFile,
		Stderr:   logFile,
	})
	if err != nil {
		killChildren(bin)
		tmp.err = fmt.Errorf("start dev server %s: %w\n%s", bin, err, tail(logFile.Name(), 30))
		return
	}
	tmp.server = srv
	tmp.address = srv.FrontendHostPort()
}

// TemporalAddress is the host:port of the shared Temporal server, started
// on first use.
func TemporalAddress(t testing.TB) string {
	t.Helper()
	requireMain(t)
	tmp.once.Do(startTemporal)
	if tmp.err != nil {
		t.Fatalf("testenv: Temporal is unavailable: %v", tmp.err)
	}
	return tmp.address
}

// Temporal returns a client of the shared Temporal server on namespace
// "default", closed when the test ends.
func Temporal(t testing.TB) client.Client {
	t.Helper()
	addr := TemporalAddress(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  addr,
		Namespace: Namespace,
		Logger:    quietLogger(),
	})
	if err != nil {
		t.Fatalf("testenv: connect to Temporal at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// TaskQueue returns a task queue name unique to this test: tests sharing
// the Temporal server isolate their workers by task queue.
func TaskQueue(t testing.TB) string {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		default:
			return '-'
		}
	}, t.Name())
	if len(name) > 80 {
		name = name[:80]
	}
	return "test-" + name + "-" + randomHex(4)
}

// ---- teardown and helpers ----

func teardown() error {
	var errs []error
	if tmp.server != nil {
		tmp.server.Client().Close()
		if err := tmp.server.Stop(); err != nil && !isInterruptExit(err) {
			errs = append(errs, fmt.Errorf("stop Temporal dev server: %w", err))
		}
	}
	if tmp.logDir != "" {
		_ = os.RemoveAll(tmp.logDir)
	}
	if pg.admin != nil {
		pg.admin.Close()
	}
	if pg.cluster != nil {
		if err := pg.cluster.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop PostgreSQL: %w", err))
		}
	}
	if pg.dir != "" {
		_ = os.RemoveAll(pg.dir)
	}
	return errors.Join(errs...)
}

// staleAfter is how old the folder of a test process that was killed
// (so Main never cleaned up) must be before another test process deletes it.
const staleAfter = time.Hour

// sweepStale removes temporary folders left by killed test processes: older
// than staleAfter and without a live PostgreSQL server inside. (Servers die
// with their test process; only the folders stay behind.)
func sweepStale(prefix string) {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range matches {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		if serverAlive(dir) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// serverAlive reports whether a PostgreSQL server runs from a data folder
// under dir, according to its postmaster.pid.
func serverAlive(dir string) bool {
	pidFiles, _ := filepath.Glob(filepath.Join(dir, "*", "postmaster.pid"))
	for _, f := range pidFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return true // unreadable: assume alive
		}
		first, _, _ := strings.Cut(string(data), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || pid <= 0 {
			return true
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			return true
		}
	}
	return false
}

// isInterruptExit reports whether err is the dev server exiting because of
// the interrupt we sent it.
func isInterruptExit(err error) bool {
	s := err.Error()
	return strings.Contains(s, "signal: interrupt") || strings.Contains(s, "exit status 130")
}

// killChildren kills our child processes running exe: StartDevServer leaves
// the process behind when it never became ready.
func killChildren(exe string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	me := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil || !strings.Contains(string(status), "\nPPid:\t"+me+"\n") {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && sameFile(target, exe) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
				_, _ = p.Wait()
			}
		}
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a TCP port of 127.0.0.1 that is free at the moment; a
// failure fails t.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := pglocal.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// EnvInt is the positive whole number in the environment variable name, def
// when it is unset or anything else (the sizes of load tests).
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// LoadApplication is a valid food voucher application of a one-person
// household in Tradate with the tax code taxCode, as the load tests file it.
func LoadApplication(taxCode string) map[string]any {
	return map[string]any{"form": "buoni-spesa", "data": map[string]any{
		"applicant":    map[string]any{"first_name": "Bench", "last_name": "Citizen", "tax_code": taxCode, "birth_date": "1980-01-01"},
		"residence":    map[string]any{"municipality": "tradate", "address": "Via Roma 1"},
		"household":    map[string]any{"members": 1, "minors": 0},
		"isee_euro":    5000,
		"delivery":     "download",
		"declarations": map[string]any{"truthful": true, "privacy": true},
	}}
}

// Balance is the ledger balance of account, in cents; a failure fails t.
func Balance(t testing.TB, st *store.Store, account string) int64 {
	t.Helper()
	b, err := store.Balance(context.Background(), st.Pool, account)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
