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

// TestReplayAppointmentHistories replays the appointment workflow's
// histories recorded from real runs (internal/e2e, TestAppointment*, with
// SPORTELLO_RECORD_HISTORIES=<abs path>/workflows/testdata/histories): the
// reminder then a cancellation, attendance with a plan, and a no-show.
func TestReplayAppointmentHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/appointment/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d appointment histories in testdata/histories/appointment, want the three journeys", len(files))
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(workflows.Appointment)
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
