package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/testenv"
)

// TestTemporalKeepsStateAcrossRestarts starts the dev server on a state
// file, starts a workflow, restarts the server and finds the workflow again.
func TestTemporalKeepsStateAcrossRestarts(t *testing.T) {
	bin, err := testenv.TemporalBin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Temporal CLI missing at %s: run `make test` or `make bin/temporal`", bin)
	}
	dir := t.TempDir()
	opts := TemporalOptions{
		Bin:     bin,
		DBFile:  filepath.Join(dir, "temporal.db"),
		LogFile: filepath.Join(dir, "temporal.log"),
		Port:    testenv.FreePort(t),
		UIPort:  testenv.FreePort(t),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	srv, err := StartTemporal(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	if _, err := StartTemporal(ctx, opts); err == nil {
		t.Fatal("a second server started on busy ports")
	}
	c, err := WaitTemporal(ctx, client.Options{HostPort: srv.Address()})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "devstack-restart", TaskQueue: "nobody-polls"}, "Nothing")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	srv2, err := StartTemporal(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv2.Stop()
	c2, err := WaitTemporal(ctx, client.Options{HostPort: srv2.Address()})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	desc, err := c2.DescribeWorkflowExecution(ctx, "devstack-restart", run.GetRunID())
	if err != nil {
		t.Fatalf("workflow lost across restart: %v", err)
	}
	if got := desc.GetWorkflowExecutionInfo().GetType().GetName(); got != "Nothing" {
		t.Errorf("workflow type = %q", got)
	}
}

func TestStartTemporalMissingBinary(t *testing.T) {
	_, err := StartTemporal(context.Background(), TemporalOptions{Bin: filepath.Join(t.TempDir(), "nope")})
	if err == nil {
		t.Fatal("started without a binary")
	}
}

func TestEnsureDatabase(t *testing.T) {
	url, st := testenv.Postgres(t)
	ctx := context.Background()
	name := fmt.Sprintf("devstack_ensure_%d", time.Now().UnixNano())
	t.Cleanup(func() { _, _ = st.Pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name) })
	for i := 0; i < 2; i++ { // the second call finds it
		if err := EnsureDatabase(ctx, url, name); err != nil {
			t.Fatal(err)
		}
	}
	var exists bool
	if err := st.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || !exists {
		t.Fatalf("database %s not created (%v)", name, err)
	}
}

func TestMain(m *testing.M) { testenv.Main(m) }
