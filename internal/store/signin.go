package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sign-in like the national systems and recovery by e-mail (issue 16,
// migration 023): the logins started at the OpenID Connect provider, the
// citizens enrolled from the population registry on their first sign-in,
// how a session was opened, and the links of a password reset by e-mail.

// Session methods: how a session was opened.
const (
	SessionPassword = "password"
	SessionOIDC     = "oidc"
)

// Throttle kinds of the requests of a reset link.
const (
	ThrottleResetAccount = "reset_account"
	ThrottleResetAddress = "reset_address"
)

func init() {
	ThrottlePolicies[ThrottleResetAccount] = ThrottlePolicy{Free: 3, Base: time.Minute, Max: time.Hour}
	ThrottlePolicies[ThrottleResetAddress] = ThrottlePolicy{Free: 10, Base: time.Second, Max: 15 * time.Minute}
}

// Refusals of the sign-in.
var (
	// ErrResetInvalid: a reset link that is unknown, used, revoked or expired.
	ErrResetInvalid = errors.New("reset: link not valid")
)

// OIDCLogin is a login started at the identity provider.
type OIDCLogin struct {
	Nonce, Verifier, Next string
}

// SaveOIDCLogin records a started login under the hash of its state, for
// ttl. Expired ones are cleared on the way.
func (a API) SaveOIDCLogin(ctx context.Context, stateHash []byte, l OIDCLogin, now time.Time, ttl time.Duration) error {
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_logins WHERE expires_at <= $1`, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO oidc_logins (state_hash, nonce, verifier, next, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, stateHash, l.Nonce, l.Verifier, l.Next, now, now.Add(ttl))
		return err
	})
	return MapError(err)
}

// TakeOIDCLogin consumes the live login of stateHash: it is deleted, so a
// second callback with the same state finds nothing (ErrNotFound, as for
// an unknown or expired state).
func (a API) TakeOIDCLogin(ctx context.Context, stateHash []byte, now time.Time) (OIDCLogin, error) {
	var l OIDCLogin
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var expires time.Time
		if err := tx.QueryRow(ctx, `DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING nonce, verifier, next, expires_at`,
			stateHash).Scan(&l.Nonce, &l.Verifier, &l.Next, &expires); err != nil {
			return err
		}
		if !now.Before(expires) {
			return pgx.ErrNoRows
		}
		return nil
	})
	return l, MapError(err)
}

// CitizenForSignIn returns the citizen whose tax code is taxCode. One not
// seen before who is a current resident of a municipality served here is
// enrolled on the spot (an active account with no password, named as the
// registry names them, username "nome.cognome" as at the desk, never the tax
// code, which would stay in the append-only audit trail; e-mail as the
// identity provider asserted it); created tells so. A tax code neither
// among the citizens nor among the residents is ErrNotResident.
func (a API) CitizenForSignIn(ctx context.Context, taxCode, email string) (u UserView, created bool, err error) {
	taxCode = strings.ToUpper(strings.TrimSpace(taxCode))
	err = a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		created = false
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.role = 'citizen' AND u.tax_code = $1`, taxCode))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var first, last string
		err = tx.QueryRow(ctx, `SELECT first_name, last_name FROM residents WHERE tax_code = $1 AND ceased_at IS NULL`,
			taxCode).Scan(&first, &last)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotResident
		}
		if err != nil {
			return err
		}
		username, err := freeUsername(ctx, tx, first, last)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, display_name, district_id, municipality_id,
				tax_code, email, status)
			SELECT $3, '', 'citizen', r.first_name || ' ' || r.last_name, mu.district_id, r.municipality_id,
				r.tax_code, nullif($2, ''), 'active'
			FROM residents r JOIN municipalities mu ON mu.id = r.municipality_id
			WHERE r.tax_code = $1 AND r.ceased_at IS NULL
			ON CONFLICT DO NOTHING RETURNING id`, taxCode, email, username).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Enrolled at this moment by a sign-in of the same person in
			// another request (the conflict was skipped): theirs; or the
			// username was taken meanwhile: try again.
			u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
				WHERE u.role = 'citizen' AND u.tax_code = $1`, taxCode))
			if errors.Is(err, pgx.ErrNoRows) {
				return &ConflictError{Code: "retry", Message: "concurrent enrolment, try again"}
			}
			return err
		}
		if err != nil {
			return err
		}
		created = true
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.id = $1`, id))
		return err
	})
	if errors.Is(err, ErrNotResident) {
		return UserView{}, false, err
	}
	return u, created, MapError(err)
}

// SessionSignIn is how a session was opened.
type SessionSignIn struct {
	Method string // SessionPassword or SessionOIDC
	LoA    string // the level of assurance of an OIDC sign-in ("" otherwise)
}

// CreateSessionBy stores the hash of a new token for userID like
// CreateSession, noting how it was opened.
func (a API) CreateSessionBy(ctx context.Context, userID int64, tokenHash []byte, ttl time.Duration, by SessionSignIn) (time.Time, error) {
	expires, err := a.CreateSession(ctx, userID, tokenHash, ttl)
	if err != nil || by.Method == SessionPassword || by.Method == "" {
		return expires, err
	}
	err = a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE auth_sessions SET method = $2, loa = nullif($3, '') WHERE token_hash = $1`,
			tokenHash, by.Method, by.LoA)
		return err
	})
	return expires, MapError(err)
}

// SessionSignInOf returns how the live session of tokenHash was opened.
func (a API) SessionSignInOf(ctx context.Context, tokenHash []byte) (SessionSignIn, error) {
	var by SessionSignIn
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT method, coalesce(loa, '') FROM auth_sessions WHERE token_hash = $1 AND expires_at > now()`,
			tokenHash).Scan(&by.Method, &by.LoA)
	})
	return by, MapError(err)
}

// CreatePasswordReset stores the hash of a reset link for the active
// account username that has an e-mail address, revoking its previous live
// link, valid until now+ttl. An unknown username, an account waiting for
// activation or one without e-mail is ErrNotFound.
func (a API) CreatePasswordReset(ctx context.Context, username string, tokenHash []byte, now time.Time, ttl time.Duration) (UserView, error) {
	var u UserView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.username = $1 AND u.status = 'active' AND coalesce(u.email, '') <> '' FOR UPDATE OF u`,
			strings.ToLower(strings.TrimSpace(username))))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET revoked_at = $2 WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
			u.ID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO password_resets (user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			u.ID, tokenHash, now, now.Add(ttl))
		return err
	})
	return u, MapError(err)
}

// PasswordResetLive reports whether tokenHash is a live reset link (the
// page that asks for the new password).
func (a API) PasswordResetLive(ctx context.Context, tokenHash []byte, now time.Time) (bool, error) {
	var live bool
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM password_resets WHERE token_hash = $1
			AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2)`, tokenHash, now).Scan(&live)
	})
	return live, MapError(err)
}

// ResetPassword uses the live reset link tokenHash up: the account's
// password becomes passwordHash and every session of the account ends. A
// link that is not live is ErrResetInvalid and changes nothing.
func (a API) ResetPassword(ctx context.Context, tokenHash []byte, passwordHash string, now time.Time) (UserView, error) {
	var u UserView
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var id, userID int64
		err := tx.QueryRow(ctx, `SELECT id, user_id FROM password_resets WHERE token_hash = $1
			AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`, tokenHash, now).Scan(&id, &userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrResetInvalid
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, passwordHash); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, userID); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.id = $1`, userID))
		return err
	})
	if errors.Is(err, ErrResetInvalid) {
		return UserView{}, err
	}
	return u, MapError(err)
}
