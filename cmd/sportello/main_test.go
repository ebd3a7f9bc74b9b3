package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
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
