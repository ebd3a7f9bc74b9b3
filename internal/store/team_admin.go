package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Team management for supervisors (issue 4): the district's teams with
// their members and each member's load, creating teams, adding and
// removing members, automatic assignment per team, and which team reviews
// each fund. Every function works within one district (the caller's),
// named explicitly; the API audits each change.

// TeamMember is a member of a team with their load: the tasks they have
// claimed and not decided yet.
type TeamMember struct {
	UserID       int64  `json:"user_id"`
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Role         string `json:"role"`
	Municipality string `json:"municipality,omitempty"`
	Load         int    `json:"load"`
}

// TeamFund is a fund a team reviews.
type TeamFund struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TeamDetail is a team with its members and the funds it reviews.
type TeamDetail struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	Municipality     string       `json:"municipality,omitempty"`
	MunicipalityName string       `json:"municipality_name,omitempty"`
	AutoAssign       bool         `json:"auto_assign"`
	Members          []TeamMember `json:"members"`
	Funds            []TeamFund   `json:"funds"`
}

// Usernames lists the members' usernames (for audit rows).
func (t TeamDetail) Usernames() []string {
	out := make([]string, 0, len(t.Members))
	for _, m := range t.Members {
		out = append(out, m.Username)
	}
	return out
}

// TeamDetails lists the district's teams by name, with members (by name)
// and funds.
func (a API) TeamDetails(ctx context.Context, district string) ([]TeamDetail, error) {
	var out []TeamDetail
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		out, err = teamDetails(ctx, tx, district, "")
		return err
	})
	return out, MapError(err)
}

// TeamDetail returns one team of the district (ErrNotFound otherwise).
func (a API) TeamDetail(ctx context.Context, district, id string) (TeamDetail, error) {
	var out TeamDetail
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		out, err = teamDetail(ctx, tx, district, id)
		return err
	})
	return out, MapError(err)
}

func teamDetail(ctx context.Context, tx pgx.Tx, district, id string) (TeamDetail, error) {
	if id == "" {
		return TeamDetail{}, ErrNotFound
	}
	l, err := teamDetails(ctx, tx, district, id)
	if err != nil {
		return TeamDetail{}, err
	}
	if len(l) == 0 {
		return TeamDetail{}, ErrNotFound
	}
	return l[0], nil
}

// teamDetails reads the district's teams (only team id when not empty).
func teamDetails(ctx context.Context, tx pgx.Tx, district, id string) ([]TeamDetail, error) {
	out := []TeamDetail{}
	rows, err := tx.Query(ctx, `SELECT t.id, t.name, coalesce(t.municipality_id, ''), coalesce(mu.name, ''), t.auto_assign
		FROM teams t LEFT JOIN municipalities mu ON mu.id = t.municipality_id
		WHERE t.district_id = $1 AND ($2 = '' OR t.id = $2) ORDER BY t.name, t.id`, district, id)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for rows.Next() {
		t := TeamDetail{Members: []TeamMember{}, Funds: []TeamFund{}}
		if err := rows.Scan(&t.ID, &t.Name, &t.Municipality, &t.MunicipalityName, &t.AutoAssign); err != nil {
			rows.Close()
			return nil, err
		}
		index[t.ID] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT m.team_id, u.id, u.username, u.display_name, u.role, coalesce(u.municipality_id, ''),
			(SELECT count(*) FROM tasks x WHERE x.claimed_by = u.id AND x.status = 'claimed')
		FROM team_members m JOIN teams t ON t.id = m.team_id JOIN users u ON u.id = m.user_id
		WHERE t.district_id = $1 AND ($2 = '' OR t.id = $2) ORDER BY u.display_name, u.username`, district, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var team string
		var m TeamMember
		if err := rows.Scan(&team, &m.UserID, &m.Username, &m.DisplayName, &m.Role, &m.Municipality, &m.Load); err != nil {
			rows.Close()
			return nil, err
		}
		out[index[team]].Members = append(out[index[team]].Members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT f.team_id, f.id, f.name FROM funds f JOIN teams t ON t.id = f.team_id
		WHERE t.district_id = $1 AND ($2 = '' OR t.id = $2) ORDER BY f.name, f.id`, district, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var team string
		var f TeamFund
		if err := rows.Scan(&team, &f.ID, &f.Name); err != nil {
			return nil, err
		}
		out[index[team]].Funds = append(out[index[team]].Funds, f)
	}
	return out, rows.Err()
}

// NewTeam is a team to create: its id (chosen by the caller), name and,
// optionally, municipality ("" for the whole district).
type NewTeam struct {
	ID, Name, Municipality string
}

// CodeTeamNameTaken is the ConflictError code of a team name the district
// already has (compared without regard to case).
const CodeTeamNameTaken = "team_name_taken"

// CreateTeam creates a team of the district. Refusals: *InvalidError at
// /municipality for a municipality outside the district, a ConflictError
// CodeTeamNameTaken for a name in use.
func (a API) CreateTeam(ctx context.Context, district string, in NewTeam) (TeamDetail, error) {
	var out TeamDetail
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		// One creation at a time per district: the name check below holds.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('teams:' || $1))`, district); err != nil {
			return err
		}
		if in.Municipality != "" {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM municipalities WHERE id = $1 AND district_id = $2)`,
				in.Municipality, district).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return invalidField("/municipality", "unknown_municipality", "Not a municipality of the district.",
					"Non è un comune dell'ambito.")
			}
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE district_id = $1 AND lower(name) = lower($2))`,
			district, in.Name).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return Conflict(CodeTeamNameTaken, "the district already has a team named "+in.Name)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO teams (id, district_id, municipality_id, name) VALUES ($1, $2, nullif($3, ''), $4)`,
			in.ID, district, in.Municipality, in.Name); err != nil {
			return err
		}
		var err error
		out, err = teamDetail(ctx, tx, district, in.ID)
		return err
	})
	return out, teamError(err)
}

// teamError keeps *InvalidError as is and maps the rest.
func teamError(err error) error {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie
	}
	return MapError(err)
}

// CodeAlreadyMember is the ConflictError code of adding a member twice.
const CodeAlreadyMember = "already_member"

// AddTeamMember adds a staff member to a team of the district: an operator
// of the team's municipality (any municipality of the district for a
// district-wide team) or a supervisor of the district. Refusals:
// ErrNotFound for the team, *InvalidError at /username for anyone else, a
// ConflictError CodeAlreadyMember.
func (a API) AddTeamMember(ctx context.Context, district, teamID, username string) (TeamDetail, error) {
	var out TeamDetail
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		team, err := teamDetail(ctx, tx, district, teamID)
		if err != nil {
			return err
		}
		var userID int64
		err = tx.QueryRow(ctx, `SELECT u.id FROM users u WHERE u.username = $1 AND u.district_id = $2
			AND (u.role = 'supervisor' OR (u.role = 'operator' AND ($3 = '' OR u.municipality_id = $3)))`,
			username, district, team.Municipality).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			if team.Municipality == "" {
				return invalidField("/username", "ineligible_member", "Members are the district's social workers and supervisors.",
					"I membri sono gli operatori e i supervisori dell'ambito.")
			}
			return invalidField("/username", "ineligible_member",
				"Members are social workers of "+team.MunicipalityName+" or supervisors of the district.",
				"I membri sono operatori del comune di "+team.MunicipalityName+" o supervisori dell'ambito.")
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, teamID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return Conflict(CodeAlreadyMember, username+" is already a member of "+team.Name)
		}
		out, err = teamDetail(ctx, tx, district, teamID)
		return err
	})
	return out, teamError(err)
}

// RemoveTeamMember takes a member out of a team of the district. The tasks
// they have claimed stay with them (a supervisor reassigns them if need
// be); kept is how many. ErrNotFound for an unknown team or a non-member.
func (a API) RemoveTeamMember(ctx context.Context, district, teamID, username string) (out TeamDetail, kept int, err error) {
	err = a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := teamDetail(ctx, tx, district, teamID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `DELETE FROM team_members m USING users u
			WHERE m.team_id = $1 AND m.user_id = u.id AND u.username = $2
			RETURNING (SELECT count(*) FROM tasks x WHERE x.claimed_by = u.id AND x.status = 'claimed')`,
			teamID, username).Scan(&kept)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = teamDetail(ctx, tx, district, teamID)
		return err
	})
	return out, kept, MapError(err)
}

// SetTeamAutoAssign switches automatic assignment of a team of the
// district on or off (ErrNotFound for an unknown team).
func (a API) SetTeamAutoAssign(ctx context.Context, district, teamID string, on bool) (TeamDetail, error) {
	var out TeamDetail
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE teams SET auto_assign = $3 WHERE id = $1 AND district_id = $2`, teamID, district, on)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		out, err = teamDetail(ctx, tx, district, teamID)
		return err
	})
	return out, MapError(err)
}

// FundReview says which team reviews a fund and whether its tasks are
// assigned automatically.
type FundReview struct {
	FundID           string `json:"fund_id"`
	FundName         string `json:"fund_name"`
	Municipality     string `json:"municipality"`
	MunicipalityName string `json:"municipality_name"`
	TeamID           string `json:"team_id,omitempty"`
	TeamName         string `json:"team_name,omitempty"`
	AutoAssign       bool   `json:"auto_assign"`
}

const fundReviewSelect = `SELECT f.id, f.name, f.municipality_id, mu.name, coalesce(f.team_id, ''), coalesce(t.name, ''), f.auto_assign
	FROM funds f JOIN municipalities mu ON mu.id = f.municipality_id LEFT JOIN teams t ON t.id = f.team_id`

func scanFundReview(row pgx.Row) (FundReview, error) {
	var r FundReview
	err := row.Scan(&r.FundID, &r.FundName, &r.Municipality, &r.MunicipalityName, &r.TeamID, &r.TeamName, &r.AutoAssign)
	return r, err
}

// FundReviews lists the district's funds with their team, by municipality
// and name.
func (a API) FundReviews(ctx context.Context, district string) ([]FundReview, error) {
	out := []FundReview{}
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, fundReviewSelect+` WHERE f.district_id = $1 ORDER BY mu.name, f.opens_at DESC, f.id`, district)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanFundReview(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, MapError(err)
}

// FundReviewOf returns one fund of the district (ErrNotFound otherwise).
func (a API) FundReviewOf(ctx context.Context, district, fundID string) (FundReview, error) {
	var out FundReview
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		out, err = scanFundReview(tx.QueryRow(ctx, fundReviewSelect+` WHERE f.district_id = $1 AND f.id = $2`, district, fundID))
		return err
	})
	return out, MapError(err)
}

// SetFundReview makes teamID ("" for none: the municipality's queue) the
// reviewer of a fund of the district and switches its automatic assignment.
// Tasks already open keep their team. Refusals: ErrNotFound for the fund,
// *InvalidError at /team_id for a team outside the district or of another
// municipality.
func (a API) SetFundReview(ctx context.Context, district, fundID, teamID string, auto bool) (FundReview, error) {
	var out FundReview
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		cur, err := scanFundReview(tx.QueryRow(ctx, fundReviewSelect+` WHERE f.district_id = $1 AND f.id = $2 FOR UPDATE OF f`,
			district, fundID))
		if err != nil {
			return err
		}
		if teamID != "" {
			team, err := teamDetail(ctx, tx, district, teamID)
			if errors.Is(err, ErrNotFound) {
				return invalidField("/team_id", "unknown_team", "Not a team of the district.", "Non è una squadra dell'ambito.")
			}
			if err != nil {
				return err
			}
			if team.Municipality != "" && team.Municipality != cur.Municipality {
				return invalidField("/team_id", "team_of_another_municipality",
					team.Name+" works for "+team.MunicipalityName+", the fund for "+cur.MunicipalityName+".",
					team.Name+" lavora per "+team.MunicipalityName+", il fondo è di "+cur.MunicipalityName+".")
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE funds SET team_id = nullif($2, ''), auto_assign = $3 WHERE id = $1`,
			fundID, teamID, auto); err != nil {
			return err
		}
		out, err = scanFundReview(tx.QueryRow(ctx, fundReviewSelect+` WHERE f.id = $1`, fundID))
		return err
	})
	return out, teamError(err)
}

// TrimTeamName normalises a team name (spaces collapsed).
func TrimTeamName(s string) string { return strings.Join(strings.Fields(s), " ") }
