package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"sportello/internal/pglocal"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// mustConfig is the configuration of env (see envOf); an error fails t.
func mustConfig(t *testing.T, env map[string]string) config {
	t.Helper()
	c, err := loadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// freeAddr is a loopback address whose port is free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := pglocal.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

func TestLoadConfigDefaults(t *testing.T) {
	c := mustConfig(t, nil)
	if c.DatabaseURLSet || c.TemporalSet {
		t.Error("nothing set, yet DatabaseURLSet or TemporalSet")
	}
	if c.DatabaseURL != "postgres://postgres@127.0.0.1:55432/sportello?sslmode=disable" ||
		c.TemporalAddress != "127.0.0.1:7233" || c.Namespace != "default" || c.HTTPAddr != "127.0.0.1:8080" ||
		c.DataDir != ".data" || c.TemporalBin != "bin/temporal" || c.PGPort != 55432 ||
		c.LogLevel != slog.LevelInfo || c.LogFormat != "text" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestLoadConfigFromEnv(t *testing.T) {
	c, err := loadConfig(envOf(map[string]string{
		"DATABASE_URL":         "postgres://u@db/x",
		"TEMPORAL_ADDRESS":     "temporal:7233",
		"TEMPORAL_NAMESPACE":   "sportello",
		"SPORTELLO_LOG_LEVEL":  "debug",
		"SPORTELLO_LOG_FORMAT": "json",
		"SPORTELLO_PG_PORT":    "6000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DatabaseURLSet || !c.TemporalSet || c.DatabaseURL != "postgres://u@db/x" || c.TemporalAddress != "temporal:7233" ||
		c.Namespace != "sportello" || c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || c.PGPort != 6000 {
		t.Errorf("config = %+v", c)
	}
	for k, v := range map[string]string{"SPORTELLO_PG_PORT": "x", "SPORTELLO_LOG_LEVEL": "loud", "SPORTELLO_LOG_FORMAT": "xml"} {
		if _, err := loadConfig(envOf(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
}

func TestRunRejectsUnknownCommandAndArguments(t *testing.T) {
	ctx := context.Background()
	if err := run(ctx, []string{"frobnicate"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
	if err := run(ctx, []string{"migrate", "extra"}, envOf(nil)); err == nil {
		t.Error("migrate accepted an extra argument")
	}
	if err := run(ctx, []string{"help"}, envOf(nil)); err != nil {
		t.Errorf("help: %v", err)
	}
}

// productionEnv is a complete production environment whose servers are
// unreachable (port 1 on loopback): a command that accepts it goes on to
// connect and fails there, not on its configuration.
func productionEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL":              "postgres://sportello@127.0.0.1:1/sportello?sslmode=disable&connect_timeout=2",
		"TEMPORAL_ADDRESS":          "127.0.0.1:1",
		"SPORTELLO_PAYMENTS_URL":    "https://psp.example.org",
		"SPORTELLO_PAYMENTS_SECRET": "whsec_real-provider-secret",
		"SPORTELLO_ACCOUNTING_URL":  "https://ragioneria.example.org/api",
		"SPORTELLO_PUBLIC_URL":      "https://sportello.example.org",
		"SPORTELLO_SMTP_HOST":       "smtp.example.org",
		"SPORTELLO_PSEUDONYM_KEY":   "a-district-secret-pseudonym-key",
	}
}

// api and worker refuse to start on development defaults: the error names
// every missing setting (and the sandbox's public secret counts as
// missing); with the settings given they get past the check; dev and the
// sandboxes' commands still run on their defaults.
func TestProductionCommandsRequireTheirSettings(t *testing.T) {
	ctx := context.Background()
	want := map[string][]string{
		"api": {"DATABASE_URL", "TEMPORAL_ADDRESS", "SPORTELLO_PAYMENTS_URL", "SPORTELLO_PAYMENTS_SECRET", "SPORTELLO_PUBLIC_URL", "SPORTELLO_SMTP_HOST"},
		"worker": {"DATABASE_URL", "TEMPORAL_ADDRESS", "SPORTELLO_PAYMENTS_URL", "SPORTELLO_ACCOUNTING_URL", "SPORTELLO_PUBLIC_URL", "SPORTELLO_SMTP_HOST",
			"SPORTELLO_PSEUDONYM_KEY"},
	}
	for cmd, vars := range want {
		err := run(ctx, []string{cmd}, envOf(nil))
		if err == nil || !strings.Contains(err.Error(), "refusing to start") {
			t.Fatalf("%s with no environment: %v", cmd, err)
		}
		for _, v := range vars {
			if !strings.Contains(err.Error(), v+" (") {
				t.Errorf("%s: the error does not name %s: %v", cmd, v, err)
			}
			env := productionEnv()
			delete(env, v)
			err := run(ctx, []string{cmd}, envOf(env))
			if err == nil || !strings.Contains(err.Error(), "refusing to start") || !strings.Contains(err.Error(), v+" (") {
				t.Errorf("%s without %s: %v", cmd, v, err)
			}
		}
		for _, secret := range []string{devPaySecret, "CHANGE-ME"} {
			env := productionEnv()
			env["SPORTELLO_PAYMENTS_SECRET"] = secret
			if err := run(ctx, []string{cmd}, envOf(env)); cmd == "api" && (err == nil || !strings.Contains(err.Error(), "SPORTELLO_PAYMENTS_SECRET")) {
				t.Errorf("api with the secret %q: %v", secret, err)
			} else if cmd == "worker" && err != nil && strings.Contains(err.Error(), "refusing to start") {
				t.Errorf("worker refused over the callback secret it does not use: %v", err)
			}
		}
		// The pseudonym key: dev's public one or a short one is refused by
		// the worker (api does not pseudonymise).
		for _, key := range []string{devPseudonymKey, "short"} {
			env := productionEnv()
			env["SPORTELLO_PSEUDONYM_KEY"] = key
			err := run(ctx, []string{cmd}, envOf(env))
			if cmd == "worker" && (err == nil || !strings.Contains(err.Error(), "SPORTELLO_PSEUDONYM_KEY")) {
				t.Errorf("worker with the pseudonym key %q: %v", key, err)
			} else if cmd == "api" && err != nil && strings.Contains(err.Error(), "refusing to start") {
				t.Errorf("api refused over the pseudonym key it does not use: %v", err)
			}
		}
		// Everything given: past the check, failing on the unreachable database.
		if err := run(ctx, []string{cmd}, envOf(productionEnv())); err == nil || strings.Contains(err.Error(), "refusing to start") {
			t.Errorf("%s with a production environment: %v", cmd, err)
		}
	}
	for _, cmd := range []string{"dev", "migrate", "paysandbox", "accounting"} {
		if err := requireProduction(cmd, envOf(nil)); err != nil {
			t.Errorf("%s requires production settings: %v", cmd, err)
		}
	}
	// dev takes its defaults: it gets past the configuration to its flags.
	if err := run(ctx, []string{"dev", "--no-such-flag"}, envOf(nil)); err == nil || strings.Contains(err.Error(), "refusing") {
		t.Errorf("dev with defaults: %v", err)
	}
}
