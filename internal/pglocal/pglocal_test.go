package pglocal

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func freePort(t *testing.T) int {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// tempDir is under /tmp rather than t.TempDir: when the tests run as root the
// server runs as postgres, which must be able to reach the folder.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sportello-pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

// onConn runs fn on a connection of its own to the database at url; a
// failure fails t, naming sql.
func onConn(t *testing.T, url, sql string, fn func(context.Context, *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	if err := fn(ctx, conn); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryRow reads the one value of sql's one row on the database at url.
func queryRow[T any](t *testing.T, url, sql string, args ...any) T {
	t.Helper()
	var v T
	onConn(t, url, sql, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, sql, args...).Scan(&v)
	})
	return v
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	onConn(t, url, sql, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql)
		return err
	})
}

func TestStartStopRestartKeepsData(t *testing.T) {
	if _, err := BinDir(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := tempDir(t)
	port := freePort(t)
	opts := Options{Dir: dir, Port: port, Logf: t.Logf}

	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if got, want := c.URL("app"), "postgres://postgres@127.0.0.1:"+itoa(port)+"/app?sslmode=disable"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	exec1(t, c.URL("postgres"), `CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)`)
	if enc := queryRow[string](t, c.URL("postgres"), `SHOW server_encoding`); enc != "UTF8" {
		t.Errorf("server_encoding = %q, want UTF8", enc)
	}
	if la := queryRow[string](t, c.URL("postgres"), `SHOW listen_addresses`); la != "127.0.0.1" {
		t.Errorf("listen_addresses = %q", la)
	}
	if sd := queryRow[string](t, c.URL("postgres"), `SHOW unix_socket_directories`); sd != c.Dir() && sd != "" {
		t.Errorf("unix_socket_directories = %q, want the data folder", sd)
	}

	// A second Start on the running folder reuses the server.
	again, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("second start (reuse): %v", err)
	}
	if again.LogPath() != "" {
		t.Errorf("second start should have reused the running server")
	}

	if err := c.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid still there after stop: %v", err)
	}

	c2, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer c2.Stop()
	if n := queryRow[int](t, c2.URL("postgres"), `SELECT n FROM kept`); n != 42 {
		t.Fatalf("kept = %d, want 42", n)
	}
}

func TestStartRefusesForeignFolder(t *testing.T) {
	dir := tempDir(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), Options{Dir: dir, Port: freePort(t)}); err == nil {
		t.Fatal("Start accepted a non-empty folder that is not a data folder")
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // refuse the protocol at once, like a foreign service would
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Dir: tempDir(t), Port: port, StartTimeout: 20 * time.Second})
	if err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	t.Logf("expected error: %v", err)
}

func itoa(n int) string { return strconv.Itoa(n) }
