package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// verdict is one line a script can read: name value unit target PASS|MISS.
// The value has two decimals, or as many more (up to six) as it takes for
// the printed figure to fall on the same side of the target as the value
// itself: a ratio of 0.8492 against >=0.85 prints as 0.849, never as a
// 0.85 that MISSes.
func verdict(name string, value float64, unit, target string, ok bool) string {
	v := "MISS"
	if ok {
		v = "PASS"
	}
	return fmt.Sprintf("%s %s %s %s %s", name, figure(value, target), unit, target, v)
}

// median is the middle value of v (the upper one of an even count), the
// figure of alternated rounds (payments, bookings); v keeps its order.
func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// figure prints value for verdict against target (">=0.85", "<5", "=0(>5s)",
// "report", ...).
func figure(value float64, target string) string {
	s := strconv.FormatFloat(value, 'f', 2, 64)
	op, limit, ok := parseTarget(target)
	if !ok {
		return s
	}
	want := meets(value, op, limit)
	for d := 2; d <= 6; d++ {
		s = strconv.FormatFloat(value, 'f', d, 64)
		if shown, err := strconv.ParseFloat(s, 64); err == nil && meets(shown, op, limit) == want {
			break
		}
	}
	return s
}

// parseTarget reads a target's comparison and limit ("<=50" is "<=", 50);
// the text after the number, if any, is ignored.
func parseTarget(target string) (string, float64, bool) {
	for _, op := range []string{">=", "<=", "<", ">", "="} {
		rest, found := strings.CutPrefix(target, op)
		if !found {
			continue
		}
		end := 0
		for end < len(rest) && (rest[end] == '.' || rest[end] >= '0' && rest[end] <= '9') {
			end++
		}
		limit, err := strconv.ParseFloat(rest[:end], 64)
		return op, limit, err == nil
	}
	return "", 0, false
}

func meets(v float64, op string, limit float64) bool {
	switch op {
	case ">=":
		return v >= limit
	case "<=":
		return v <= limit
	case "<":
		return v < limit
	case ">":
		return v > limit
	}
	return v == limit
}

func TestVerdictPrintsTheSideOfItsTarget(t *testing.T) {
	for _, c := range []struct {
		value  float64
		unit   string
		target string
		ok     bool
		want   string
	}{
		{0.8492, "ratio", ">=0.85", false, "x 0.849 ratio >=0.85 MISS"},
		{0.85, "ratio", ">=0.85", true, "x 0.85 ratio >=0.85 PASS"},
		{0.8513, "ratio", ">=0.85", true, "x 0.85 ratio >=0.85 PASS"},
		{0.84996, "ratio", ">=0.85", false, "x 0.84996 ratio >=0.85 MISS"},
		{4.996, "ms", "<5", true, "x 4.996 ms <5 PASS"},
		{5.001, "ms", "<5", false, "x 5.00 ms <5 MISS"},
		{30.134, "ms", "<=50", true, "x 30.13 ms <=50 PASS"},
		{10000, "cases", "=10000", true, "x 10000.00 cases =10000 PASS"},
		{0, "tasks", "=0(>5s)", true, "x 0.00 tasks =0(>5s) PASS"},
		{195.934, "MiB", "report", true, "x 195.93 MiB report PASS"},
	} {
		if got := verdict("x", c.value, c.unit, c.target, c.ok); got != c.want {
			t.Errorf("verdict(%v, %q) = %q, want %q", c.value, c.target, got, c.want)
		}
	}
}

func TestMedianOfRoundsKeepsTheirOrder(t *testing.T) {
	rounds := []float64{0.81, 0.88, 0.77, 0.80, 0.89}
	if got := median(rounds); got != 0.81 {
		t.Errorf("median of %v = %v, want 0.81", rounds, got)
	}
	if want := []float64{0.81, 0.88, 0.77, 0.80, 0.89}; !slices.Equal(rounds, want) {
		t.Errorf("median reordered the rounds to %v; the per-round line would print them out of order", rounds)
	}
	if got := median([]float64{0.95, 0.99}); got != 0.99 {
		t.Errorf("median of an even count = %v, want the upper middle value 0.99", got)
	}
}
