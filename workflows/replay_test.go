package workflows_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"sportello/workflows"
)

// TestReplayCommittedHistories replays histories recorded from real runs
// (internal/e2e with SPORTELLO_RECORD_HISTORIES=workflows/testdata/histories)
// against the current workflow code: a change to running workflow logic that
// is not behind workflow.GetVersion fails here.
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

// versionsIn lists the workflow.GetVersion change ids a history recorded.
func versionsIn(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := client.HistoryFromJSON(bytesReader(raw), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ids := map[string]bool{}
	for _, ev := range h.GetEvents() {
		m := ev.GetMarkerRecordedEventAttributes()
		if m == nil || m.GetMarkerName() != "Version" {
			continue
		}
		var id string
		if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
			t.Fatalf("%s: version marker: %v", path, err)
		}
		ids[id] = true
	}
	return ids
}

// TestHistoriesCoverEveryVersionBranch keeps the replay test honest: for each
// versioned change there must be a committed history from before it (the old
// branch) and one recorded after it (the new branch).
func TestHistoriesCoverEveryVersionBranch(t *testing.T) {
	files, _ := filepath.Glob("testdata/histories/*.json")
	for _, change := range []string{"local-handler-writes", "casework-2", "office-calendar", "local-notify", "office-per-task", "auto-assign", "ordered-notify"} {
		with, without := 0, 0
		for _, f := range files {
			if versionsIn(t, f)[change] {
				with++
			} else {
				without++
			}
		}
		if with == 0 || without == 0 {
			t.Errorf("change %q: %d histories on the new branch, %d on the old; both must be replayed", change, with, without)
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
