package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PendingStarts returns, oldest first, at most limit cases filed before
// `before` whose workflow is not known to have started (migration 041): the
// API committed them but its start did not happen or has not reached the
// pre-check yet. It reads the small partial index cases_start_pending.
func (s *Store) PendingStarts(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM cases WHERE start_pending AND created_at < $1
			ORDER BY created_at, id LIMIT $2`, before, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, MapError(err)
}

// StartedCases records that the workflows of ids exist: they are no longer
// pending.
func (s *Store) StartedCases(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cases SET start_pending = false WHERE id = ANY($1) AND start_pending`, ids)
		return err
	})
	return MapError(err)
}
