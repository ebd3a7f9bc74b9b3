package main

import (
	"strings"
	"testing"
)

func TestClusterCommandsNeedARunningSupervisor(t *testing.T) {
	dir := t.TempDir()
	err := run(t.Context(), []string{"cluster", "--dir", dir, "status"}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "no cluster running") {
		t.Fatalf("status without a cluster: %v", err)
	}
	if err := run(t.Context(), []string{"cluster", "--dir", dir, "kill"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "which process") {
		t.Fatalf("kill without a name: %v", err)
	}
	if err := run(t.Context(), []string{"cluster", "--dir", dir, "explode", "api-1"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "unknown cluster command") {
		t.Fatalf("an unknown command: %v", err)
	}
	// up refuses a folder without the binaries, naming the make target.
	if err := run(t.Context(), []string{"cluster", "--dir", dir, "--bin", dir}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "make cluster-bins") {
		t.Fatalf("up without binaries: %v", err)
	}
}
