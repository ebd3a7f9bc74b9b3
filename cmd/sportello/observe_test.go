package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// /metrics is served on SPORTELLO_METRICS_ADDR, and the listener closes
// with the process's stop.
func TestMetricsServedOnTheirOwnAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := loadConfig(envOf(map[string]string{"SPORTELLO_METRICS_ADDR": addr}))
	if err != nil {
		t.Fatal(err)
	}
	stop, err := startObserving(context.Background(), cfg, "api", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "sportello_applications_total") {
		t.Errorf("GET /metrics: %d\n%.300s", res.StatusCode, body)
	}
	stop()
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics listener is still open after stop")
	}

	if _, err := loadConfig(envOf(map[string]string{"SPORTELLO_METRICS_ADDR": "9464"})); err == nil {
		t.Error("SPORTELLO_METRICS_ADDR without a host:port was taken")
	}
	cfg, err = loadConfig(envOf(map[string]string{"SPORTELLO_METRICS_ADDR": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	if stop, err := startObserving(context.Background(), cfg, "worker", slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("metrics off: %v", err)
	} else {
		stop()
	}
}
