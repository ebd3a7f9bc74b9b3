package workflows_test

import (
	"path/filepath"
	"testing"

	"sportello/workflows"
)

// TestReplayCallFundingHistories replays the call funding workflow's
// histories recorded from real runs (api TestCallFunding* with
// SPORTELLO_RECORD_HISTORIES): a commitment asked through the accounting
// system's unavailability then confirmed and booked, and one refused.
func TestReplayCallFundingHistories(t *testing.T) {
	const glob = "testdata/histories/call-funding/*.json"
	if files, _ := filepath.Glob(glob); len(files) < 2 {
		t.Fatalf("%d call funding histories, want the two journeys", len(files))
	}
	replayHistories(t, glob, workflows.CallFunding)
}
