package store

import (
	"context"
	"fmt"
)

// WithSessionLock runs fn while this process holds the cluster-wide
// advisory lock named name, waiting for it while another process holds it.
// The lock belongs to one pooled connection, held aside for the duration:
// a process that dies mid-way loses its connection and with it the lock.
// Used where replicas must take turns at work outside the database (the
// workers' Temporal schedules at start-up: issue 14).
func (s *Store) WithSessionLock(ctx context.Context, name string, fn func() error) error {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return MapError(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, name); err != nil {
		return fmt.Errorf("advisory lock %s: %w", name, MapError(err))
	}
	defer func() {
		// context.WithoutCancel: the lock goes back even when ctx has ended.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name); err != nil {
			// The connection may hold the lock still: close it rather than
			// return it to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn()
}
