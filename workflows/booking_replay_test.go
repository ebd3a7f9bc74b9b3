package workflows_test

import (
	"path/filepath"
	"testing"

	"sportello/workflows"
)

// TestReplayBookingHistories replays the booking workflow's histories
// recorded from real runs (internal/e2e, TestBooking*, with
// SPORTELLO_RECORD_HISTORIES=<abs path>/workflows/testdata/histories): a
// split booking paid, accepted, delivered and confirmed; a paid booking
// cancelled and refunded with the provider failing first; a decline that
// goes to another cooperative, then a cancellation; each recorded before
// the booking level and again on levels 1 and 2 (booking-1-*, booking-2-*,
// versions.go).
func TestReplayBookingHistories(t *testing.T) {
	const glob = "testdata/histories/booking/*.json"
	if files, _ := filepath.Glob(glob); len(files) < 9 {
		t.Fatalf("%d booking histories, want the three journeys before the level and on levels 1 and 2", len(files))
	}
	replayHistories(t, glob, workflows.Booking)
}
