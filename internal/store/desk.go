package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sportello/internal/contract"
)

// Registration at the desk (issue 4): an operator of a Social Point
// registers a citizen, who activates the account with a one-time code.

// Account states of users.status.
const (
	UserActive            = "active"
	UserPendingActivation = "pending_activation"
)

// Activation code rules.
const (
	ActivationCodeTTL      = 30 * 24 * time.Hour
	activationCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/I
	activationCodeLen      = 12                                 // about 60 bits
)

// Activation errors: what a citizen is told when a code does not work.
var (
	ErrActivationInvalid = errors.New("activation: wrong username or code")
	ErrActivationUsed    = errors.New("activation: code already used")
	ErrActivationExpired = errors.New("activation: code expired")
	// ErrNotResident: the tax code is not in the registry of a municipality of the district.
	ErrNotResident = errors.New("not a resident of the district")
)

// NewActivationCode returns a random code, grouped for reading aloud
// ("ABCD-EFGH-JKLM").
func NewActivationCode() (string, error) {
	b := make([]byte, activationCodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		// 256 is a multiple of 32: no bias.
		sb.WriteByte(activationCodeAlphabet[int(x)%len(activationCodeAlphabet)])
	}
	return sb.String(), nil
}

// normalizeCode accepts codes typed with spaces, without dashes or in lower case.
func normalizeCode(code string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// activationHash is what the database keeps of a code. The code is random
// (about 60 bits) and locked after a few wrong attempts, so a plain hash
// suffices; the user id binds it to its account.
func activationHash(userID int64, code string) []byte {
	sum := sha256.Sum256([]byte(fmt.Sprintf("sportello-activation:%d:%s", userID, normalizeCode(code))))
	return sum[:]
}

// NewCitizen is a citizen registered at the desk.
type NewCitizen struct {
	TaxCode      string
	FirstName    string
	LastName     string
	Email        string
	Phone        string
	Address      string
	HomeDelivery bool
	Now          time.Time
}

// DeskCitizen is a citizen as the Social Point sees them.
type DeskCitizen struct {
	ID int64 `json:"-"`
	// PublicID is the opaque id of the citizen in URLs and JSON.
	PublicID     string     `json:"id"`
	Username     string     `json:"username"`
	DisplayName  string     `json:"display_name"`
	FirstName    string     `json:"first_name"`
	LastName     string     `json:"last_name"`
	TaxCode      string     `json:"tax_code"`
	District     string     `json:"district"`
	Municipality string     `json:"municipality"`
	Email        string     `json:"email,omitempty"`
	Phone        string     `json:"phone,omitempty"`
	Address      string     `json:"address,omitempty"`
	HomeDelivery bool       `json:"home_delivery"`
	Status       string     `json:"status"`
	RegisteredBy string     `json:"registered_by,omitempty"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
	// CodeExpiresAt is the expiry of the live activation code, if any.
	CodeExpiresAt *time.Time `json:"activation_code_expires_at,omitempty"`
	CodeLocked    bool       `json:"activation_code_locked,omitempty"`
}

// UserView is the citizen as a logged-in user (for filing on their behalf).
func (d DeskCitizen) UserView() UserView {
	return UserView{ID: d.ID, Username: d.Username, Role: string(contract.RoleCitizen), DisplayName: d.DisplayName,
		District: d.District, Municipality: d.Municipality, TaxCode: d.TaxCode, Email: d.Email}
}

// IssuedCode is a fresh activation code, shown once.
type IssuedCode struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// accents folds the accented letters of Italian (and neighbouring) names.
var accents = strings.NewReplacer("à", "a", "á", "a", "â", "a", "ä", "a", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ò", "o", "ó", "o", "ô", "o", "ö", "o", "ù", "u", "ú", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "š", "s", "ž", "z", "ć", "c", "č", "c")

// usernameBase derives "nome.cognome" in lower-case ASCII.
func usernameBase(first, last string) string {
	clean := func(s string) string {
		s = accents.Replace(strings.ToLower(s))
		var sb strings.Builder
		for _, r := range s {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				sb.WriteRune(r)
			}
		}
		return sb.String()
	}
	base := strings.Trim(clean(first)+"."+clean(last), ".")
	if base == "" {
		base = "cittadino"
	}
	if len(base) > 40 {
		base = base[:40]
	}
	return base
}

// freeUsername is "nome.cognome", with a number after it when that is
// taken ("nome.cognome2", ...).
func freeUsername(ctx context.Context, tx pgx.Tx, first, last string) (string, error) {
	base := usernameBase(first, last)
	var taken []string
	rows, err := tx.Query(ctx, `SELECT username FROM users WHERE username = $1 OR username ~ ('^' || $2 || '[0-9]+$')`,
		base, strings.ReplaceAll(base, ".", `\.`))
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return "", err
		}
		taken = append(taken, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	username := base
	for n := 2; slices.Contains(taken, username); n++ {
		username = fmt.Sprintf("%s%d", base, n)
	}
	return username, nil
}

const deskCitizenSelect = `SELECT u.id, u.public_id::text, u.username, u.display_name, coalesce(r.first_name, ''), coalesce(r.last_name, ''),
		coalesce(u.tax_code, ''), u.district_id, coalesce(u.municipality_id, ''), coalesce(u.email, ''), coalesce(u.phone, ''),
		coalesce(u.postal_address, ''), u.home_delivery, u.status, coalesce(o.username, ''), u.registered_at,
		a.expires_at, a.locked_at IS NOT NULL
	FROM users u
	LEFT JOIN residents r ON r.tax_code = u.tax_code
	LEFT JOIN users o ON o.id = u.registered_by
	LEFT JOIN activation_codes a ON a.user_id = u.id AND a.used_at IS NULL AND a.revoked_at IS NULL`

func scanDeskCitizen(row pgx.Row) (DeskCitizen, error) {
	var d DeskCitizen
	var locked *bool
	err := row.Scan(&d.ID, &d.PublicID, &d.Username, &d.DisplayName, &d.FirstName, &d.LastName, &d.TaxCode, &d.District,
		&d.Municipality, &d.Email, &d.Phone, &d.Address, &d.HomeDelivery, &d.Status, &d.RegisteredBy,
		&d.RegisteredAt, &d.CodeExpiresAt, &locked)
	d.CodeLocked = locked != nil && *locked
	return d, err
}

// issueCode revokes the user's live code and stores a new one.
func issueCode(ctx context.Context, tx pgx.Tx, userID, issuedBy int64, now time.Time) (IssuedCode, error) {
	return issueCodeTTL(ctx, tx, userID, issuedBy, now, ActivationCodeTTL)
}

// issueCodeTTL is issueCode with a code valid for ttl.
func issueCodeTTL(ctx context.Context, tx pgx.Tx, userID, issuedBy int64, now time.Time, ttl time.Duration) (IssuedCode, error) {
	code, err := NewActivationCode()
	if err != nil {
		return IssuedCode{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE activation_codes SET revoked_at = $2
		WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, userID, now); err != nil {
		return IssuedCode{}, err
	}
	out := IssuedCode{Code: code, ExpiresAt: now.Add(ttl)}
	_, err = tx.Exec(ctx, `INSERT INTO activation_codes (user_id, code_hash, issued_by, issued_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, userID, activationHash(userID, code), issuedBy, now, out.ExpiresAt)
	return out, err
}

// RegisterCitizen creates, for a staff member of scope, the account of a
// resident of one of the district's municipalities, waiting for activation,
// and its first activation code. A tax code outside the district's registry
// is ErrNotResident; one that already has an account is a conflict
// "citizen_exists".
func (a API) RegisterCitizen(ctx context.Context, scope Scope, in NewCitizen) (DeskCitizen, IssuedCode, error) {
	var out DeskCitizen
	var code IssuedCode
	taxCode := strings.ToUpper(strings.TrimSpace(in.TaxCode))
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var municipality string
		var served bool
		err := tx.QueryRow(ctx, `SELECT r.municipality_id, sportello_desk_serves(m.district_id, r.municipality_id)
			FROM residents r JOIN municipalities m ON m.id = r.municipality_id
			WHERE r.tax_code = $1 AND m.district_id = $2 AND r.ceased_at IS NULL`, taxCode, scope.District).Scan(&municipality, &served)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotResident
		}
		if err != nil {
			return err
		}
		if !served {
			return ErrNotServed
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE role = 'citizen' AND tax_code = $1)`,
			taxCode).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return errCitizenExists
		}
		username, err := freeUsername(ctx, tx, in.FirstName, in.LastName)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id,
				tax_code, email, phone, postal_address, home_delivery, status, registered_by, registered_at)
			VALUES ($1, '!', 'citizen', $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), nullif($8, ''), $9,
				'pending_activation', nullif($10, 0::bigint), $11) RETURNING id`,
			username, strings.TrimSpace(in.FirstName+" "+in.LastName), scope.District, municipality, taxCode,
			strings.TrimSpace(in.Email), strings.TrimSpace(in.Phone), strings.TrimSpace(in.Address), in.HomeDelivery,
			scope.UserID, in.Now).Scan(&id)
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "23505" {
			if pg.ConstraintName == "users_citizen_tax_code" {
				return errCitizenExists
			}
			return Conflict("retry", "someone registered the same name at the same moment; try again")
		}
		if err != nil {
			return err
		}
		if code, err = issueCode(ctx, tx, id, scope.UserID, in.Now); err != nil {
			return err
		}
		out, err = scanDeskCitizen(tx.QueryRow(ctx, deskCitizenSelect+` WHERE u.id = $1`, id))
		return err
	})
	if errors.Is(err, ErrNotResident) || errors.Is(err, ErrNotServed) {
		return out, code, err
	}
	return out, code, MapError(err)
}

var errCitizenExists = Conflict("citizen_exists", "a citizen with this tax code is already registered")

// deskServed is the condition on u (users) of a citizen the scope serves at
// the desk: the database decides (sportello_desk_serves, migration 014).
const deskServed = ` AND u.role = 'citizen' AND sportello_desk_serves(u.district_id, u.municipality_id)`

// DeskCitizen returns a citizen that scope serves at the desk: of the
// operator's municipality, or of the district when the district shares its
// desk (ErrNotFound otherwise).
func (a API) DeskCitizen(ctx context.Context, scope Scope, id int64) (DeskCitizen, error) {
	var out DeskCitizen
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = scanDeskCitizen(tx.QueryRow(ctx, deskCitizenSelect+` WHERE u.id = $1 AND u.district_id = $2`+deskServed,
			id, scope.District))
		return err
	})
	return out, MapError(err)
}

// DeskCitizens lists the district's citizens registered at the desk or
// matching a tax code (exact) or a name (prefix), newest first.
func (a API) DeskCitizens(ctx context.Context, scope Scope, query string, limit int) ([]DeskCitizen, error) {
	list := []DeskCitizen{}
	q := strings.TrimSpace(query)
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, deskCitizenSelect+` WHERE u.district_id = $1`+deskServed+`
			AND ($2 = '' AND u.registered_by IS NOT NULL
			     OR $2 <> '' AND (u.tax_code = upper($2) OR lower(u.display_name) LIKE lower($2) || '%' OR u.username = lower($2)))
			ORDER BY u.registered_at DESC NULLS LAST, u.id DESC LIMIT $3`, scope.District, q, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDeskCitizen(rows)
			if err != nil {
				return err
			}
			list = append(list, d)
		}
		return rows.Err()
	})
	return list, MapError(err)
}

// ReissueActivationCode revokes the live code of a citizen waiting for
// activation that scope serves and issues a new one. An active account is a
// conflict "account_active": a new code for it is a recovery
// (RequestRecovery), never handed to the desk.
func (a API) ReissueActivationCode(ctx context.Context, scope Scope, citizenID int64, now time.Time) (IssuedCode, error) {
	var code IssuedCode
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT u.status FROM users u WHERE u.id = $1 AND u.district_id = $2`+deskServed+` FOR UPDATE`,
			citizenID, scope.District).Scan(&status); err != nil {
			return err
		}
		if status != UserPendingActivation {
			return ErrAccountActive
		}
		var err error
		code, err = issueCode(ctx, tx, citizenID, scope.UserID, now)
		return err
	})
	return code, MapError(err)
}

// Activate checks username's live activation code and, when it is right,
// sets the password hash, activates the account and uses the code up. A
// wrong code is ErrActivationInvalid and changes nothing (the caller
// throttles attempts). The returned user is the activated one.
func (a API) Activate(ctx context.Context, username, code, passwordHash string, now time.Time) (UserView, error) {
	var u UserView
	var outcome error
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		outcome = nil
		var userID, codeID int64
		var hash []byte
		var expires time.Time
		err := tx.QueryRow(ctx, `SELECT u.id, a.id, a.code_hash, a.expires_at
			FROM users u JOIN activation_codes a ON a.user_id = u.id AND a.used_at IS NULL AND a.revoked_at IS NULL
			WHERE u.username = $1 AND u.role = 'citizen' FOR UPDATE OF a`, strings.TrimSpace(username)).
			Scan(&userID, &codeID, &hash, &expires)
		if errors.Is(err, pgx.ErrNoRows) {
			// No live code: used already (the last code was) or never issued.
			var used bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users u JOIN activation_codes a ON a.user_id = u.id
				WHERE u.username = $1 AND a.used_at IS NOT NULL
				AND a.id = (SELECT max(id) FROM activation_codes WHERE user_id = u.id))`,
				strings.TrimSpace(username)).Scan(&used); err != nil {
				return err
			}
			outcome = ErrActivationInvalid
			if used {
				outcome = ErrActivationUsed
			}
			return nil
		}
		if err != nil {
			return err
		}
		if !now.Before(expires) {
			outcome = ErrActivationExpired
			return nil
		}
		// A wrong code locks nothing (a stranger could lock the citizen
		// out): the API throttles attempts per username and address.
		if subtle.ConstantTimeCompare(hash, activationHash(userID, code)) != 1 {
			outcome = ErrActivationInvalid
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE activation_codes SET used_at = $2 WHERE id = $1`, codeID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, status = 'active' WHERE id = $1`,
			userID, passwordHash); err != nil {
			return err
		}
		// A new password ends every session of the account (API tokens and
		// web sessions alike live in auth_sessions).
		if err := endSessions(ctx, tx, userID); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.id = $1`, userID))
		return err
	})
	if err != nil {
		return UserView{}, MapError(err)
	}
	return u, outcome
}
