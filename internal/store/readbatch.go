package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// readBatch runs one read statement under scope in a single round trip
// (Store.pipeline: the scope's settings and role, then the statement, sent
// together as one implicit transaction), and scan reads its rows. InTx
// takes more round trips for the same, which for a short read is most of
// its time.
//
// The statement's plan is the generic one, made once per connection and
// kept with its prepared statement: callers write only the conditions they
// use (no "$1 = empty OR ..." clauses), so it is as good as a plan for the values, and
// under row-level security planning costs more than running a short read.
func (s *Store) readBatch(ctx context.Context, scope Scope, sql string, args pgx.NamedArgs, scan func(pgx.Rows) error) error {
	b := &pgx.Batch{}
	b.Queue(sql, args).Query(scan)
	return s.pipeline(ctx, scope, b, true)
}
