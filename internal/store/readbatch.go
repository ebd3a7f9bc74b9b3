package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// readBatch runs one read-only statement under scope in a single round
// trip: BEGIN, the scope settings and role (the same as InTx sets), the
// statement and COMMIT are sent together as one pipeline, and scan reads
// the statement's rows. InTx takes four round trips for the same (BEGIN,
// the settings, the statement, COMMIT), which for a short read is most of
// its time.
//
// The statement's plan is the generic one, made once per connection and
// kept with its prepared statement: callers write only the conditions they
// use (no "$1 = ” OR ..."), so it is as good as a plan for the values, and
// under row-level security planning costs more than running a short read.
//
// The statement runs only after the settings: a pipeline runs in order and
// stops at the first error (the transaction is then aborted and the
// connection, not idle, is closed by the pool instead of being reused).
func (s *Store) readBatch(ctx context.Context, scope Scope, sql string, args pgx.NamedArgs, scan func(pgx.Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(`BEGIN READ ONLY`)
	b.Queue(`SELECT set_config('sportello.scope', $1, true),
			set_config('sportello.district', $2, true),
			set_config('sportello.municipality', $3, true),
			set_config('sportello.user', $4, true),
			set_config('role', 'sportello_app', true),
			set_config('plan_cache_mode', 'force_generic_plan', true)`,
		scope.Kind, scope.District, scope.Municipality, userSetting(scope.UserID))
	b.Queue(sql, args)
	b.Queue(`COMMIT`)
	br := s.Pool.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("begin: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("set scope: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return err
	}
	err = scan(rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		br.Close()
		return err
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("commit: %w", err)
	}
	return br.Close()
}
