// Package observe is Sportello's observability: the Prometheus registry
// served on /metrics (HTTP requests by route and status, the database pool,
// the Temporal SDK's metrics, the business counters), OpenTelemetry traces
// from the HTTP request through the workflow and its activities to SQL
// (exported over OTLP only when an endpoint is configured), and the slog
// handler that writes the trace id on log lines. docs/operations.md lists
// every metric and setting.
//
// Nothing here carries personal data: metric labels are routes (gin's
// pattern, never the raw path), methods and status codes; SQL spans are named
// by the statement's first word and carry no statement text or arguments.
package observe
