package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Assignee looks up a staff member a supervisor may give a task to: an
// operator of the task's municipality or a supervisor of its district.
// ErrNotFound when there is no such person.
func (a API) Assignee(ctx context.Context, username, district, municipality string) (UserView, error) {
	var u UserView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.username = $1 AND u.district_id = $2
			  AND (u.role = 'supervisor' OR (u.role = 'operator' AND u.municipality_id = $3))`, username, district, municipality))
		return err
	})
	return u, MapError(err)
}

// Assignees lists who may be given a task of the municipality: its
// operators, then the district's supervisors, by name.
func (a API) Assignees(ctx context.Context, district, municipality string) ([]UserView, error) {
	return a.users(ctx, `WHERE u.district_id = $1 AND (u.role = 'supervisor' OR (u.role = 'operator' AND u.municipality_id = $2))
		ORDER BY u.role, u.display_name`, district, municipality)
}
