package observe

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// SQLTracer makes a span of every statement and batch run inside a traced
// operation (an HTTP request, an activity): pgx's QueryTracer and
// BatchTracer. A statement outside any trace (the pool's health checks, a
// migration) gets none, and costs one context lookup.
//
// A span is named by the statement's first word (db SELECT, db INSERT) and
// carries db.system and db.operation.name only: never the statement's
// text or its arguments, which can hold personal data.
type SQLTracer struct {
	tracer trace.Tracer
}

// NewSQLTracer returns the tracer of tp's spans (Provider() when nil).
func NewSQLTracer(tp trace.TracerProvider) *SQLTracer {
	if tp == nil {
		tp = Provider()
	}
	return &SQLTracer{tracer: tp.Tracer(instrumentation)}
}

var (
	_ pgx.QueryTracer = (*SQLTracer)(nil)
	_ pgx.BatchTracer = (*SQLTracer)(nil)
)

var dbSystem = attribute.String("db.system", "postgresql")

// operation is the first word of a statement, upper case: SELECT, INSERT,
// WITH, BEGIN; "SQL" when it has none.
func operation(sql string) string {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	end := strings.IndexAny(sql, " \t\r\n(;")
	if end < 0 {
		end = len(sql)
	}
	if end == 0 || end > 16 {
		return "SQL"
	}
	op := sql[:end]
	switch op {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SET":
		return op
	}
	return strings.ToUpper(op)
}

// sqlSpan marks the context of a span this tracer started, so that the end
// of an untraced statement never ends its caller's span.
type sqlSpan struct{}

func (t *SQLTracer) start(ctx context.Context, sql string) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	op := operation(sql)
	ctx, span := t.tracer.Start(ctx, "db "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(dbSystem, attribute.String("db.operation.name", op)))
	return context.WithValue(ctx, sqlSpan{}, span)
}

func end(ctx context.Context, err error) {
	span, ok := ctx.Value(sqlSpan{}).(trace.Span)
	if !ok {
		return
	}
	if err != nil {
		// The error's kind, not its text: a constraint's message can quote
		// the row's values.
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}

// TraceQueryStart starts the span of one statement.
func (t *SQLTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return t.start(ctx, data.SQL)
}

// TraceQueryEnd ends it.
func (t *SQLTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(ctx, data.Err)
}

// TraceBatchStart starts the span of a batch (one round trip).
func (t *SQLTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	ctx = t.start(ctx, "BATCH")
	if span, ok := ctx.Value(sqlSpan{}).(trace.Span); ok && data.Batch != nil {
		span.SetAttributes(attribute.Int("db.operation.batch.size", data.Batch.Len()))
	}
	return ctx
}

// TraceBatchQuery is nothing: the batch's span covers its statements.
func (t *SQLTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd ends the batch's span.
func (t *SQLTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(ctx, data.Err)
}
