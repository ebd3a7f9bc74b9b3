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
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
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
func (s *Store) InTx(ctx context.Context, scope Scope, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// One round trip: the scope settings and the role (set_config('role')
		// is SET LOCAL ROLE), applied left to right before anything else runs.
		if _, err := tx.Exec(ctx, `SELECT set_config('sportello.scope', $1, true),
			set_config('sportello.district', $2, true),
			set_config('sportello.municipality', $3, true),
			set_config('sportello.user', $4, true),
			set_config('role', 'sportello_app', true)`,
			scope.Kind, scope.District, scope.Municipality, userSetting(scope.UserID)); err != nil {
			return fmt.Errorf("set scope: %w", err)
		}
		return fn(tx)
	})
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
