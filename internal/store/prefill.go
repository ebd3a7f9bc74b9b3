package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// KnownAddress is the street address the platform knows for a citizen: the
// postal address of their profile (recorded at a Social Point), else the
// residence address of their latest application visible in scope; "" when
// none.
func (s *Store) KnownAddress(ctx context.Context, scope Scope, userID int64) (string, error) {
	var addr string
	err := s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT coalesce(
				(SELECT nullif(btrim(postal_address), '') FROM users WHERE id = $1),
				(SELECT nullif(btrim(c.data #>> '{residence,address}'), '') FROM cases c
					WHERE c.applicant_id = $1 ORDER BY c.created_at DESC LIMIT 1),
				'')`, userID).Scan(&addr)
	})
	return addr, MapError(err)
}
