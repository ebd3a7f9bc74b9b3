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

// TestReplayCommittedHistories replays histories recorded from real runs
// (internal/e2e with SPORTELLO_RECORD_HISTORIES=<abs path>/workflows/testdata/histories,
// renamed after the level they record) against the current workflow code: a
// change to running workflow logic that is not behind workflow.GetVersion
// fails here. Which branch each history covers is checked from the list in
// versions.go by TestHistoriesCoverEveryBranch.
func TestReplayCommittedHistories(t *testing.T) {
	replayHistories(t, "testdata/histories/*.json", workflows.FoodVoucher)
}

// replayHistories replays every history matching glob against workflow.
func replayHistories(t *testing.T, glob string, workflow any) {
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no committed histories match " + glob)
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflow)
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
