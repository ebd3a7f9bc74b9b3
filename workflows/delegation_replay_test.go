package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"sportello/workflows"
)

// TestReplayDelegationHistories replays the delegation workflow's histories
// recorded from real runs (internal/e2e TestAbsenceHandsTasksOverAndBack
// with SPORTELLO_RECORD_HISTORIES).
func TestReplayDelegationHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/delegation/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no committed histories in testdata/histories/delegation")
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflows.Delegation)
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
