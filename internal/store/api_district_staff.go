package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DistrictStaff lists the district's operators (of every municipality) and
// supervisors, by role and name: whom a supervisor may pick when assigning
// a selection of tasks (each assignment is still checked against its task).
func (a API) DistrictStaff(ctx context.Context, district string) ([]UserView, error) {
	return a.users(ctx, `WHERE u.district_id = $1 AND u.role IN ('operator', 'supervisor')
			ORDER BY u.role, u.display_name, u.username`, district)
}

// users lists the users a WHERE ... ORDER BY clause selects (system scope).
func (a API) users(ctx context.Context, whereOrder string, args ...any) ([]UserView, error) {
	var out []UserView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id `+whereOrder, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, MapError(err)
}
