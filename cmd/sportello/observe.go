package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sportello/internal/observe"
	"sportello/internal/store"
)

// startObserving installs the tracer provider of the command (OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing otherwise) and serves
// /metrics on SPORTELLO_METRICS_ADDR; stop closes the metrics listener and
// flushes the spans still buffered.
func startObserving(ctx context.Context, cfg config, cmd string, logger *slog.Logger) (stop func(), err error) {
	tc := cfg.Tracing
	tc.Service = "sportello-" + cmd
	shutdown, err := observe.SetupTracing(ctx, tc)
	if err != nil {
		return nil, err
	}
	if tc.Endpoint != "" {
		logger.Info("tracing on: spans exported over OTLP", "endpoint", tc.Endpoint, "service", tc.Service)
	}
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := shutdown(fctx); err != nil {
			logger.Warn("flush traces", "err", err)
		}
	}
	closeMetrics, err := serveMetrics(cfg, logger)
	if err != nil {
		flush()
		return nil, fmt.Errorf("metrics: listen on %s (SPORTELLO_METRICS_ADDR): %w", cfg.MetricsAddr, err)
	}
	return func() { closeMetrics(); flush() }, nil
}

// openStore opens the database with SQL spans and the pool's metrics.
func openStore(ctx context.Context, url string) (*store.Store, error) {
	st, err := store.OpenTraced(ctx, url, observe.NewSQLTracer(nil))
	if err != nil {
		return nil, err
	}
	observe.RegisterPool(st.Pool)
	return st, nil
}

// metricsHandler is what the metrics listener serves: /metrics and
// nothing else (the worker's liveness probe reads it).
func metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", observe.Handler())
	return mux
}

// serveMetrics serves /metrics on cfg.MetricsAddr, a listener of its own
// (never the portal's port), until the returned function closes it. A port
// that cannot be opened is an error at start-up; "off" serves nothing.
func serveMetrics(cfg config, logger *slog.Logger) (closeFn func(), err error) {
	if cfg.MetricsAddr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: metricsHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
