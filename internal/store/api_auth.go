package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// API groups the queries of the HTTP API (read side plus the few writes the
// API owns: sessions and new cases). Every method runs in a transaction under
// the caller's scope, so row-level security decides what is visible.
type API struct{ s *Store }

// API returns the API queries of s.
func (s *Store) API() API { return API{s: s} }

// UserView is an authenticated user as the API sees them.
type UserView struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	Role         string `json:"role"`
	DisplayName  string `json:"display_name"`
	District     string `json:"district"`
	Municipality string `json:"municipality,omitempty"`
	MerchantID   string `json:"merchant_id,omitempty"`
	MerchantName string `json:"merchant_name,omitempty"`
	TaxCode      string `json:"tax_code,omitempty"`
	Email        string `json:"email,omitempty"`
}

// Scope is the row-level-security scope of the user.
func (u UserView) Scope() Scope {
	return Scope{Kind: u.Role, District: u.District, Municipality: u.Municipality, UserID: u.ID}
}

const userColumns = `u.id, u.username, u.role, u.display_name, u.district_id,
	coalesce(u.municipality_id, ''), coalesce(u.merchant_id, ''), coalesce(m.name, ''),
	coalesce(u.tax_code, ''), coalesce(u.email, '')`

func scanUser(row pgx.Row, extra ...any) (UserView, error) {
	var u UserView
	dest := append([]any{&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.District,
		&u.Municipality, &u.MerchantID, &u.MerchantName, &u.TaxCode, &u.Email}, extra...)
	err := row.Scan(dest...)
	return u, err
}

// UserForLogin returns the user with username and their password hash
// (ErrNotFound when there is none). An account that is not active (waiting
// for activation) has no usable hash: "" is returned for it. It runs under
// the system scope.
func (a API) UserForLogin(ctx context.Context, username string) (UserView, string, error) {
	var (
		u    UserView
		hash string
	)
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`,
			CASE WHEN u.status = 'active' THEN u.password_hash ELSE '' END
			FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.username = $1`, username), &hash)
		return err
	})
	return u, hash, MapError(err)
}

// CreateSession stores the hash of a new bearer token for userID.
func (a API) CreateSession(ctx context.Context, userID int64, tokenHash []byte, ttl time.Duration) (time.Time, error) {
	var expires time.Time
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		// Opportunistic clean-up of this user's expired sessions.
		if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE user_id = $1 AND expires_at <= now()`, userID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO auth_sessions (token_hash, user_id, expires_at)
			VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at`,
			tokenHash, userID, ttl.Seconds()).Scan(&expires)
	})
	return expires, MapError(err)
}

// SessionTimes are the times of a live session.
type SessionTimes struct {
	Expires  time.Time // the absolute end
	LastSeen time.Time // the last request noted by TouchSession (or the login)
}

// SessionUser returns the user of a live session (ErrNotFound when the token
// is unknown or expired).
func (a API) SessionUser(ctx context.Context, tokenHash []byte) (UserView, SessionTimes, error) {
	var (
		u UserView
		t SessionTimes
	)
	// One round trip (Pipeline): every authenticated request starts here.
	b := &pgx.Batch{}
	b.Queue(`SELECT `+userColumns+`, s.expires_at, s.last_seen_at
			FROM auth_sessions s JOIN users u ON u.id = s.user_id
			LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE s.token_hash = $1 AND s.expires_at > now()`, tokenHash).QueryRow(func(row pgx.Row) error {
		var err error
		u, err = scanUser(row, &t.Expires, &t.LastSeen)
		return err
	})
	err := a.s.Pipeline(ctx, System, b)
	return u, t, MapError(err)
}

// TouchSession notes a request on a session at now (only moving forward).
func (a API) TouchSession(ctx context.Context, tokenHash []byte, now time.Time) error {
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE auth_sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2`,
			tokenHash, now)
		return err
	})
	return MapError(err)
}

// DeleteSession ends a session; deleting an unknown one is not an error.
func (a API) DeleteSession(ctx context.Context, tokenHash []byte) error {
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE token_hash = $1`, tokenHash)
		return err
	})
	return MapError(err)
}
