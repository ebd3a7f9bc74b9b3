package workflows_test

import (
	"testing"

	"sportello/workflows"
)

// TestReplayOperationsHistories replays the operations console's workflows
// recorded from real runs (api TestOperations* with
// SPORTELLO_RECORD_HISTORIES): a refund resolved by hand, asked by one
// supervisor and approved by another, and one run of the stuck-journey
// watch.
func TestReplayOperationsHistories(t *testing.T) {
	replayHistories(t, "testdata/histories/operations/refund-resolution-*.json", workflows.RefundResolution)
	replayHistories(t, "testdata/histories/operations/operations-watch*.json", workflows.OperationsWatch)
}
