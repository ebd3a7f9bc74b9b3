package store

import (
	"strings"
	"testing"
	"time"

	"sportello/internal/calendar"
)

// TestDashBuckets: days in Rome (the day summer time starts has 23
// hours), and weeks from Monday cut by the period, labelled by their
// Monday.
func TestDashBuckets(t *testing.T) {
	rome := calendar.Rome()
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, rome) }
	starts, ends, labels := dashBuckets(DashboardFilter{From: d(3, 28), To: d(3, 31), Bucket: "day"})
	if strings.Join(labels, " ") != "2026-03-28 2026-03-29 2026-03-30" || ends[1].Sub(starts[1]) != 23*time.Hour ||
		!starts[0].Equal(d(3, 28)) || !ends[2].Equal(d(3, 31)) {
		t.Errorf("days: %v %v %v", starts, ends, labels)
	}
	// Wednesday 4 March to Friday 20 March, included.
	starts, ends, labels = dashBuckets(DashboardFilter{From: d(3, 4), To: d(3, 21), Bucket: "week"})
	if strings.Join(labels, " ") != "2026-03-02 2026-03-09 2026-03-16" || !starts[0].Equal(d(3, 4)) || !ends[0].Equal(d(3, 9)) ||
		!starts[2].Equal(d(3, 16)) || !ends[2].Equal(d(3, 21)) {
		t.Errorf("weeks: %v %v %v", starts, ends, labels)
	}
}
