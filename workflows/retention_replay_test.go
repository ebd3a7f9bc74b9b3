package workflows_test

import (
	"path/filepath"
	"testing"

	"sportello/workflows"
)

// TestReplayRetentionHistories replays the retention run's histories
// recorded from real runs (internal/e2e TestPersonalDataExportAndRetention
// with SPORTELLO_RECORD_HISTORIES): a night with one citizen pseudonymised
// and a night with nothing due.
func TestReplayRetentionHistories(t *testing.T) {
	const glob = "testdata/histories/retention/*.json"
	if files, _ := filepath.Glob(glob); len(files) < 2 {
		t.Fatalf("%d retention histories, want the two runs", len(files))
	}
	replayHistories(t, glob, workflows.Retention)
}
