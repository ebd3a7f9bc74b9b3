package cluster

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// backendServer answers with its name, the body it got and the
// X-Forwarded-For it saw.
func backendServer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, name+"|"+string(body)+"|"+r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestProxySpreadsAndSkipsADeadBackend(t *testing.T) {
	a, b := backendServer(t, "a"), backendServer(t, "b")
	// A port nothing listens on: a killed API.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	p := httptest.NewServer(NewProxy([]string{strings.TrimPrefix(a.URL, "http://"), dead, strings.TrimPrefix(b.URL, "http://")}, nil))
	defer p.Close()

	seen := map[string]int{}
	for range 12 {
		resp, err := http.Post(p.URL+"/x", "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		parts := strings.Split(string(body), "|")
		if len(parts) != 3 || parts[1] != "payload" || parts[2] != "127.0.0.1" {
			t.Fatalf("answer %q: want backend|payload|127.0.0.1 (the body sent again to the next backend, the client's address forwarded)", body)
		}
		seen[parts[0]]++
	}
	if seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != 12 {
		t.Fatalf("requests per backend: %v, want both live backends used", seen)
	}
}

func TestProxyAnswers502WhenNoBackendAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	p := httptest.NewServer(NewProxy([]string{dead}, nil))
	defer p.Close()
	resp, err := http.Get(p.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
}

func TestSecretsAreGeneratedOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.env")
	s1, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{s1.PaymentsSecret, s1.PseudonymKey, s1.SportelloDBPassword, s1.TemporalDBPassword} {
		if len(v) < 32 {
			t.Fatalf("secret %q: want at least 32 characters", v)
		}
	}
	if s1.PaymentsSecret == s1.PseudonymKey {
		t.Fatal("two secrets are the same")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.env mode %v, want 0600", fi.Mode().Perm())
	}
	s2, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2 != s1 {
		t.Fatal("the secrets changed on the second start")
	}
}

func TestEnvGivesEveryProductionSettingExplicitly(t *testing.T) {
	c := &Cluster{opts: Options{Dir: "/state", Ports: DefaultPorts(17000, 2, 2)}, secrets: secrets{PaymentsSecret: "p", PseudonymKey: "k", SportelloDBPassword: "d"}}
	has := func(env []string, key string) string {
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == key {
				return v
			}
		}
		return ""
	}
	api, worker := c.Env("api", 1, 1), c.Env("worker", 0, 2)
	for _, k := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "SPORTELLO_PAYMENTS_URL", "SPORTELLO_PAYMENTS_SECRET", "SPORTELLO_PUBLIC_URL", "SPORTELLO_SMTP_HOST"} {
		if has(api, k) == "" {
			t.Errorf("api: %s missing", k)
		}
	}
	for _, k := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "SPORTELLO_PAYMENTS_URL", "SPORTELLO_ACCOUNTING_URL", "SPORTELLO_PUBLIC_URL", "SPORTELLO_SMTP_HOST", "SPORTELLO_PSEUDONYM_KEY"} {
		if has(worker, k) == "" {
			t.Errorf("worker: %s missing", k)
		}
	}
	if has(worker, "SPORTELLO_PAYMENTS_SECRET") != "" {
		t.Error("the worker got the callback secret (only the API verifies callbacks)")
	}
	if got := has(api, "SPORTELLO_HTTP_ADDR"); got != "127.0.0.1:17082" {
		t.Errorf("second API listens on %s", got)
	}
	if got := has(worker, "SPORTELLO_METRICS_ADDR"); got != "127.0.0.1:17466" {
		t.Errorf("first worker's metrics on %s", got)
	}
}

func TestStartRefusesMembershipPortsAboveSmallint(t *testing.T) {
	p := DefaultPorts(17000, 2, 2)
	p.HistoryMembership = 40000
	_, err := Start(t.Context(), Options{Dir: t.TempDir(), BinDir: t.TempDir(), Ports: p})
	if err == nil || !strings.Contains(err.Error(), "smallint") {
		t.Fatalf("err %v, want the membership port refused", err)
	}
}
