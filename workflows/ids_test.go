package workflows

import (
	"testing"

	"github.com/google/uuid"
)

// A review task's id is the same for the same run and round (every attempt
// of the workflow task that opens it) and differs otherwise.
func TestReviewTaskIDIsStable(t *testing.T) {
	a := reviewTaskID("01a23d45-9689-7e9b-9d36-4e9ed1aa93e7", 1)
	if a != reviewTaskID("01a23d45-9689-7e9b-9d36-4e9ed1aa93e7", 1) {
		t.Fatal("two ids for one run and round")
	}
	if _, err := uuid.Parse(a); err != nil {
		t.Fatalf("%q is not a UUID (tasks.id): %v", a, err)
	}
	seen := map[string]bool{a: true}
	for _, other := range []string{reviewTaskID("01a23d45-9689-7e9b-9d36-4e9ed1aa93e7", 2), reviewTaskID("01a23d45-9689-7e9b-9d36-4e9ed1aa93e8", 1)} {
		if seen[other] {
			t.Fatalf("id %s for another run or round", other)
		}
		seen[other] = true
	}
}
