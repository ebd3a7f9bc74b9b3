package workflows_test

import (
	"testing"

	"sportello/workflows"
)

// TestReplayDelegationHistories replays the delegation workflow's histories
// recorded from real runs (internal/e2e TestAbsenceHandsTasksOverAndBack
// with SPORTELLO_RECORD_HISTORIES).
func TestReplayDelegationHistories(t *testing.T) {
	replayHistories(t, "testdata/histories/delegation/*.json", workflows.Delegation)
}
