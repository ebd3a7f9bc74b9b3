package observe

import (
	"context"
	"testing"
	"time"
)

// Recording a request once its series exists allocates nothing (no trace:
// the default), so the middleware adds no garbage to every request.
func TestRequestAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	Request(ctx, "GET", "/api/v1/cases/:id", 200, time.Millisecond)
	if n := testing.AllocsPerRun(100, func() {
		Request(ctx, "GET", "/api/v1/cases/:id", 200, time.Millisecond)
	}); n != 0 {
		t.Errorf("Request allocates %v times per call", n)
	}
}

// Labels stay bounded: unknown methods, unmatched paths and odd statuses
// fall into one value each.
func TestLabelsAreBounded(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "PROPFIND": "other", "get": "other"} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{200: "200", 404: "404", 999: "other", -1: "other"} {
		if got := statusLabel(in); got != want {
			t.Errorf("statusLabel(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"SELECT 1": "SELECT", "  insert into x": "INSERT", "(SELECT 1)": "SELECT",
		"": "SQL", "begin": "BEGIN", "WITH x AS (": "WITH", "averyveryverylongidentifier x": "SQL"} {
		if got := operation(in); got != want {
			t.Errorf("operation(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		Request(ctx, "POST", "/api/v1/applications", 201, time.Millisecond)
	}
}
