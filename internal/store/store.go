// Package store holds Sportello's domain state in PostgreSQL: people, cases,
// tasks, the ledger, vouchers and the audit timeline. Every access runs in a
// transaction bound to a Scope, which row-level security uses to enforce
// tenancy inside the database itself.
//
// Size: this package is larger than the others (about 8,000 lines) on
// purpose. It is the one owner of the schema, its migrations and the
// row-level-security scope of every transaction; a use case often writes
// several tables (a decision moves ledger money, updates the case and the
// task and appends the timeline) in one transaction under one scope, which
// a split by table would have to pass between packages. Its files are
// named by area (casework.go, bookings.go, billing.go, ledger.go, ...).
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Domain errors. Handlers map them to HTTP statuses in one place.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// ConflictError is a conflict with a machine-readable code and a human message.
type ConflictError struct {
	Code    string
	Message string
}

func (e *ConflictError) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is(err, ErrConflict) true for every ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflict builds a ConflictError.
func Conflict(code, msg string) error { return &ConflictError{Code: code, Message: msg} }

// Scope says who is acting; row-level security reads it.
type Scope struct {
	Kind         string // system, supervisor, operator, citizen, merchant, anonymous
	District     string
	Municipality string
	UserID       int64
}

// System is the scope of activities and maintenance commands.
var System = Scope{Kind: "system"}

// Store wraps the connection pool.
type Store struct {
	Pool *pgxpool.Pool
}

// DefaultMaxConns is the size of the connection pool unless the database
// URL sets pool_max_conns: four connections per CPU, at least 8. pgx's own
// default (one per CPU, at least 4) left 4 connections on a two-core
// machine for the API's requests and the worker's activities together,
// and they queued for one; 32 made it worse there (every transaction
// slower, PostgreSQL's processes fighting for the same two cores). The
// measurements are in docs/benchmarks.md ("The surge").
var DefaultMaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))

// Open connects to PostgreSQL. The pool holds up to DefaultMaxConns
// connections unless the URL says otherwise (pool_max_conns=N).
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenTraced(ctx, url, nil)
}

// OpenTraced is Open with a tracer of every statement (pgx's QueryTracer,
// and BatchTracer when it is one too); nil: none.
func OpenTraced(ctx context.Context, url string, tracer pgx.QueryTracer) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

// Migrate applies the embedded migrations (serialised by an advisory lock).
func Migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect for migrations: %w", err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, "sportello_schema_version")
	if err != nil {
		return fmt.Errorf("migrator: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction under scope: the role switches to
// sportello_app so that row-level security applies even when the pool
// connects as the table owner or a superuser.
//
// BEGIN and the scope go in one round trip (one pipelined batch), before
// anything else runs; fn's statements follow, then COMMIT.
func (s *Store) InTx(ctx context.Context, scope Scope, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, scope, false, fn)
}

// inTx is InTx; with generic, PostgreSQL plans each statement of fn once
// per connection (plan_cache_mode force_generic_plan, local to the
// transaction, set in the same round trip as the scope), as pipeline does:
// for transactions of short statements that find their rows by key, whose
// planning otherwise costs as much as running them (the booking saga's
// steps, docs/benchmarks.md).
func (s *Store) inTx(ctx context.Context, scope Scope, generic bool, fn func(pgx.Tx) error) (err error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	if generic {
		queueScopeGeneric(b, scope)
	} else {
		queueScope(b, scope)
	}
	br := s.Pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer func() {
		// After Commit, or when the batch never began the transaction, the
		// transaction is closed and this only returns the connection.
		if rerr := tx.Rollback(ctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) && err == nil {
			err = rerr
		}
	}()
	if err := br.Close(); err != nil {
		return fmt.Errorf("set scope: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Pipeline runs the statements queued in b under scope in one round trip:
// the scope's settings and role switch, then b's statements, sent together
// as one pipeline (pgx.Batch) that PostgreSQL runs as one implicit
// transaction, ended by the one Sync at its end. It is InTx without the
// BEGIN and COMMIT round trips, for a fixed list of statements whose
// results fn of each queued query (QueuedQuery.Query, QueryRow, Exec)
// reads in order.
//
// The guarantees are InTx's: the settings and the role are local to the
// transaction (set_config(..., true)), so row-level security applies to
// every statement of b and nothing is left on the connection afterwards;
// and the statements commit together or not at all: an error in any of
// them rolls all of them back. A callback's error does not stop the
// statements after it, which the server has already received: a write
// queued after a read must itself hold only when the read found what it
// needed (INSERT ... SELECT ... WHERE).
func (s *Store) Pipeline(ctx context.Context, scope Scope, b *pgx.Batch) error {
	return s.pipeline(ctx, scope, b, false)
}

// pipeline is Pipeline; with generic, PostgreSQL plans each statement of b
// once per connection (plan_cache_mode force_generic_plan, local to the
// transaction) instead of again on every call: for the list reads whose
// planning costs more than their execution (a page of an index walked in
// order), and whose best plan does not depend on the values of their
// parameters.
func (s *Store) pipeline(ctx context.Context, scope Scope, b *pgx.Batch, generic bool) error {
	p := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+b.Len())}
	if generic {
		queueScopeGeneric(p, scope)
	} else {
		queueScope(p, scope)
	}
	p.QueuedQueries = append(p.QueuedQueries, b.QueuedQueries...)
	return s.Pool.SendBatch(ctx, p).Close()
}

// scopeSQL sets the scope's settings and switches the role
// (set_config('role') is SET LOCAL ROLE), applied left to right.
const scopeSQL = `SELECT set_config('sportello.scope', $1, true),
		set_config('sportello.district', $2, true),
		set_config('sportello.municipality', $3, true),
		set_config('sportello.user', $4, true),
		set_config('role', 'sportello_app', true)`

// queueScope queues the scope's settings and the role switch.
func queueScope(b *pgx.Batch, scope Scope) {
	b.Queue(scopeSQL, scope.Kind, scope.District, scope.Municipality, userSetting(scope.UserID))
}

// queueScopeGeneric is queueScope that also asks for generic plans, in the
// same statement.
func queueScopeGeneric(b *pgx.Batch, scope Scope) {
	b.Queue(scopeSQL+`, set_config('plan_cache_mode', 'force_generic_plan', true)`,
		scope.Kind, scope.District, scope.Municipality, userSetting(scope.UserID))
}

func userSetting(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// MapError turns PostgreSQL errors into domain errors.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return &ConflictError{Code: "duplicate", Message: pg.Detail}
		case "23514":
			return &ConflictError{Code: "constraint", Message: pg.ConstraintName}
		case "40001", "40P01":
			return &ConflictError{Code: "retry", Message: "concurrent update, try again"}
		}
	}
	return err
}
