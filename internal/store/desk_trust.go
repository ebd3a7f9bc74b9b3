package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// Trust at the desk (issue 10): who an operator serves, the district's
// shared desk, recoveries of active accounts, opaque public ids.

var (
	// ErrNotServed: the resident lives in a municipality the operator does
	// not serve (and the district does not share its desk).
	ErrNotServed = errors.New("resident of a municipality the desk does not serve")
	// ErrAccountActive: a new activation code for an active account is a
	// recovery, not a re-issue.
	ErrAccountActive = Conflict("account_active", "the account is active: a new code is a recovery the citizen confirms")
)

// Recovery code lifetimes: by e-mail the citizen acts at once; a code
// approved by a supervisor goes out by letter or at the desk.
const (
	RecoveryEmailTTL    = 24 * time.Hour
	RecoveryApprovedTTL = 7 * 24 * time.Hour
)

// Recovery statuses and channels (account_recoveries).
const (
	RecoverySent             = "sent"
	RecoveryAwaitingApproval = "awaiting_approval"
	RecoveryApproved         = "approved"
	RecoveryRefused          = "refused"
	RecoveryChannelEmail     = "email"
	RecoveryChannelApproval  = "approval"
)

// Recovery is a request for a new code for an active account.
type Recovery struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"`
	Channel      string     `json:"channel"`
	CitizenID    string     `json:"citizen_id"` // the citizen's public id
	CitizenName  string     `json:"citizen_name"`
	TaxCode      string     `json:"tax_code"`
	Municipality string     `json:"municipality"`
	RequestedBy  string     `json:"requested_by"`
	RequestedAt  time.Time  `json:"requested_at"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	// CodeExpiresAt is the expiry of the code sent or approved.
	CodeExpiresAt *time.Time `json:"code_expires_at,omitempty"`
}

const recoverySelect = `SELECT r.id::text, r.status, r.channel, u.public_id::text, u.display_name, coalesce(u.tax_code, ''),
		coalesce(r.municipality_id, ''), coalesce(o.username, ''), r.requested_at, coalesce(d.username, ''), r.decided_at
	FROM account_recoveries r JOIN users u ON u.id = r.user_id
	LEFT JOIN users o ON o.id = r.requested_by
	LEFT JOIN users d ON d.id = r.decided_by`

func scanRecovery(row pgx.Row) (Recovery, error) {
	var r Recovery
	err := row.Scan(&r.ID, &r.Status, &r.Channel, &r.CitizenID, &r.CitizenName, &r.TaxCode, &r.Municipality,
		&r.RequestedBy, &r.RequestedAt, &r.DecidedBy, &r.DecidedAt)
	return r, err
}

// endSessions ends every session of userID (bearer tokens and web sessions).
func endSessions(ctx context.Context, tx pgx.Tx, userID int64) error {
	_, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE user_id = $1`, userID)
	return err
}

// ParsePublicID reports whether s is a public id (a UUID in canonical form).
func ParsePublicID(s string) (string, bool) {
	id, err := uuid.Parse(s)
	if err != nil || id.String() != s {
		return "", false
	}
	return s, true
}

// DeskCitizenByPublicID is DeskCitizen by the citizen's public id.
func (a API) DeskCitizenByPublicID(ctx context.Context, scope Scope, publicID string) (DeskCitizen, error) {
	var out DeskCitizen
	if _, ok := ParsePublicID(publicID); !ok {
		return out, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = scanDeskCitizen(tx.QueryRow(ctx, deskCitizenSelect+` WHERE u.public_id = $1::uuid AND u.district_id = $2`+deskServed,
			publicID, scope.District))
		return err
	})
	return out, MapError(err)
}

// DeskShared reports whether scope's district shares its desk.
func (a API) DeskShared(ctx context.Context, scope Scope) (bool, error) {
	var shared bool
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT desk_shared FROM districts WHERE id = $1`, scope.District).Scan(&shared)
	})
	return shared, MapError(err)
}

// SetDeskShared turns the sharing of the desk of scope's district (a
// supervisor's) on or off and returns the previous value.
func (a API) SetDeskShared(ctx context.Context, scope Scope, shared bool) (bool, error) {
	var before bool
	if scope.Kind != string(contract.RoleSupervisor) && scope.Kind != "system" {
		return false, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT desk_shared FROM districts WHERE id = $1 FOR UPDATE`, scope.District).
			Scan(&before); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE districts SET desk_shared = $2 WHERE id = $1`, scope.District, shared)
		return err
	})
	return before, MapError(err)
}

// RecoveryCode is what a recovery hands to its channel: the citizen and a
// fresh code. The code never goes back to the operator who asked.
type RecoveryCode struct {
	Citizen DeskCitizen
	Code    IssuedCode
}

// RequestRecovery asks, for scope (an operator serving the citizen), a new
// code for the citizen's ACTIVE account. With an e-mail address the code is
// issued and handed to deliver inside the transaction (a failed delivery
// issues nothing); without one the recovery waits for a supervisor's
// approval (ApproveRecovery). The password stays as it is until the citizen
// uses the code. A pending account is a conflict "account_pending" (use
// ReissueActivationCode); a recovery already waiting for approval is a
// conflict "recovery_waiting".
func (a API) RequestRecovery(ctx context.Context, scope Scope, citizenID int64, now time.Time,
	deliver func(RecoveryCode) error) (Recovery, error) {
	var out Recovery
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		d, err := scanDeskCitizen(tx.QueryRow(ctx, deskCitizenSelect+` WHERE u.id = $1 AND u.district_id = $2`+deskServed+
			` FOR UPDATE OF u`, citizenID, scope.District))
		if err != nil {
			return err
		}
		if d.Status != UserActive {
			return Conflict("account_pending", "the account waits for activation: issue a new activation code instead")
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		channel, status := RecoveryChannelEmail, RecoverySent
		if d.Email == "" {
			channel, status = RecoveryChannelApproval, RecoveryAwaitingApproval
			var waiting bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM account_recoveries WHERE user_id = $1 AND status = $2)`,
				citizenID, RecoveryAwaitingApproval).Scan(&waiting); err != nil {
				return err
			}
			if waiting {
				return Conflict("recovery_waiting", "a recovery of this account already waits for a supervisor's approval")
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO account_recoveries (id, user_id, district_id, municipality_id, requested_by,
				requested_at, channel, status) VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7, $8)`,
			id, citizenID, d.District, d.Municipality, scope.UserID, now, channel, status); err != nil {
			return err
		}
		if channel == RecoveryChannelEmail {
			code, err := issueCodeTTL(ctx, tx, citizenID, scope.UserID, now, RecoveryEmailTTL)
			if err != nil {
				return err
			}
			if err := deliver(RecoveryCode{Citizen: d, Code: code}); err != nil {
				return err
			}
		}
		out, err = scanRecovery(tx.QueryRow(ctx, recoverySelect+` WHERE r.id = $1`, id))
		if channel == RecoveryChannelEmail {
			exp := now.Add(RecoveryEmailTTL)
			out.CodeExpiresAt = &exp
		}
		return err
	})
	return out, MapError(err)
}

// Recoveries lists the recoveries of scope's district (a supervisor's) with
// status (all when empty), oldest first.
func (a API) Recoveries(ctx context.Context, scope Scope, status string, limit int) ([]Recovery, error) {
	list := []Recovery{}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, recoverySelect+` WHERE r.district_id = $1 AND ($2 = '' OR r.status = $2)
			ORDER BY r.requested_at, r.id LIMIT $3`, scope.District, status, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecovery(rows)
			if err != nil {
				return err
			}
			list = append(list, r)
		}
		return rows.Err()
	})
	return list, MapError(err)
}

// Recovery returns one recovery of scope's district (ErrNotFound otherwise).
func (a API) Recovery(ctx context.Context, scope Scope, id string) (Recovery, error) {
	var out Recovery
	if _, err := uuid.Parse(id); err != nil {
		return out, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		var err error
		out, err = scanRecovery(tx.QueryRow(ctx, recoverySelect+` WHERE r.id = $1::uuid AND r.district_id = $2`, id, scope.District))
		return err
	})
	return out, MapError(err)
}

// DecideRecovery approves or refuses, for scope (a supervisor of the
// district), a recovery waiting for approval. An approval issues the code,
// returned once to be handed to the citizen (by letter or at the desk); a
// decided recovery is a conflict "recovery_decided".
func (a API) DecideRecovery(ctx context.Context, scope Scope, id string, approve bool, now time.Time) (Recovery, *RecoveryCode, error) {
	var out Recovery
	var code *RecoveryCode
	if scope.Kind != string(contract.RoleSupervisor) {
		return out, nil, ErrNotFound
	}
	if _, err := uuid.Parse(id); err != nil {
		return out, nil, ErrNotFound
	}
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		code = nil
		var userID int64
		var status string
		if err := tx.QueryRow(ctx, `SELECT user_id, status FROM account_recoveries WHERE id = $1::uuid AND district_id = $2
			FOR UPDATE`, id, scope.District).Scan(&userID, &status); err != nil {
			return err
		}
		if status != RecoveryAwaitingApproval {
			return Conflict("recovery_decided", "this recovery was already decided")
		}
		next := RecoveryRefused
		if approve {
			next = RecoveryApproved
		}
		if _, err := tx.Exec(ctx, `UPDATE account_recoveries SET status = $2, decided_by = $3, decided_at = $4 WHERE id = $1::uuid`,
			id, next, scope.UserID, now); err != nil {
			return err
		}
		if approve {
			d, err := scanDeskCitizen(tx.QueryRow(ctx, deskCitizenSelect+` WHERE u.id = $1`, userID))
			if err != nil {
				return err
			}
			c, err := issueCodeTTL(ctx, tx, userID, scope.UserID, now, RecoveryApprovedTTL)
			if err != nil {
				return err
			}
			code = &RecoveryCode{Citizen: d, Code: c}
		}
		var err error
		out, err = scanRecovery(tx.QueryRow(ctx, recoverySelect+` WHERE r.id = $1::uuid`, id))
		if code != nil {
			out.CodeExpiresAt = &code.Code.ExpiresAt
		}
		return err
	})
	if err != nil {
		return out, nil, MapError(err)
	}
	return out, code, nil
}
