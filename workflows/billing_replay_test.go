package workflows_test

import (
	"path/filepath"
	"testing"

	"sportello/workflows"
)

// TestReplayBillingHistories replays the billing workflow's histories
// recorded from real runs (internal/e2e TestBillingExactlyOnce* with
// SPORTELLO_RECORD_HISTORIES): a cooperative's invoice sent through
// accounting failures and paid, a merchant's claim waiting for its
// declaration, and a month with nothing to bill.
func TestReplayBillingHistories(t *testing.T) {
	const glob = "testdata/histories/billing/*.json"
	if files, _ := filepath.Glob(glob); len(files) < 3 {
		t.Fatalf("%d billing histories, want the three journeys", len(files))
	}
	replayHistories(t, glob, workflows.Billing)
}
