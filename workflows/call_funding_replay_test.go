package workflows_test

import (
	"path/filepath"
	"testing"

	"sportello/workflows"
)

// TestReplayCallFundingHistories replays the call funding workflow's
// histories recorded from real runs (api TestCallFunding* with
// SPORTELLO_RECORD_HISTORIES): before the level, a commitment asked
// through the accounting system's unavailability then confirmed and booked,
// and one refused; on level 1 (callFundingCancellable, api
// TestCallPublicationCancel*), a publication withdrawn between two
// attempts, a withdrawal that came while the attempt under way was
// confirmed (published), and the journey cancelled while an attempt
// confirmed (published all the same).
func TestReplayCallFundingHistories(t *testing.T) {
	const glob = "testdata/histories/call-funding/*.json"
	if files, _ := filepath.Glob(glob); len(files) < 5 {
		t.Fatalf("%d call funding histories, want the five journeys", len(files))
	}
	replayHistories(t, glob, workflows.CallFunding)
}
