package observe

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestTracingFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		env  func(string) string
		want string
	}{
		{env(), ""},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"), "http://collector:4318/v1/traces"},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://x/traces"), "https://x/traces"},
		{env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "OTEL_SDK_DISABLED", "true"), ""},
	} {
		if got := TracingFromEnv(c.env, "s").Endpoint; got != c.want {
			t.Errorf("endpoint %q, want %q", got, c.want)
		}
	}
	if _, err := newProvider(context.Background(), TracingConfig{Endpoint: "collector:4318"}); err == nil {
		t.Error("an endpoint that is no URL was taken")
	}
}

// With an endpoint, spans go to the collector over OTLP/HTTP (protobuf,
// POST to the traces path); they are flushed at shutdown at the latest.
func TestSpansAreExportedOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	ctx := context.Background()
	tp, err := newProvider(ctx, TracingConfig{Endpoint: collector.URL + "/v1/traces", Service: "sportello-test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(ctx, "GET /healthz")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("the collector got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.Method != "POST" || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		t.Errorf("export: %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{"GET /healthz", "sportello-test"} {
		if !bytesContain(bodies[0], want) {
			t.Errorf("the exported spans lack %q", want)
		}
	}
}

func bytesContain(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
