package seed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Team is a demo candidate group: who reviews the food-voucher funds of a
// municipality.
type Team struct {
	ID           string
	District     string
	Municipality string
	Name         string
	Members      []string // usernames
}

// Teams returns the demo teams of the Tradate district.
func Teams() []Team {
	return []Team{
		{ID: "istruttoria-buoni-spesa-tradate", District: "tradate", Municipality: "tradate",
			Name: "Istruttoria buoni spesa – Tradate", Members: []string{"operatore.tradate", "operatrice.tradate"}},
		{ID: "istruttoria-buoni-spesa-vedano-olona", District: "tradate", Municipality: "vedano-olona",
			Name: "Istruttoria buoni spesa – Vedano Olona", Members: []string{"operatore.vedano"}},
	}
}

// seedTeams creates the demo teams and their members, and makes each team
// the reviewer of its municipality's food-voucher funds
// (where no team is configured yet). Automatic assignment stays off.
func seedTeams(ctx context.Context, tx pgx.Tx) error {
	for _, t := range Teams() {
		if _, err := tx.Exec(ctx, `INSERT INTO teams (id, district_id, municipality_id, name) VALUES ($1, $2, nullif($3, ''), $4)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE teams.name IS DISTINCT FROM EXCLUDED.name`,
			t.ID, t.District, t.Municipality, t.Name); err != nil {
			return fmt.Errorf("seed: team %s: %w", t.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO team_members (team_id, user_id) SELECT $1, u.id FROM users u WHERE u.username = ANY($2)
			ON CONFLICT DO NOTHING`, t.ID, t.Members); err != nil {
			return fmt.Errorf("seed: members of team %s: %w", t.ID, err)
		}
		if t.Municipality != "" {
			if _, err := tx.Exec(ctx, `UPDATE funds SET team_id = $1 WHERE municipality_id = $2 AND form_id = $3 AND team_id IS NULL`,
				t.ID, t.Municipality, FoodVoucherForm); err != nil {
				return fmt.Errorf("seed: funds of team %s: %w", t.ID, err)
			}
		}
	}
	return nil
}
