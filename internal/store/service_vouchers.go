package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/contract"
)

// Kinds of funds (funds.kind, migration 010): a food fund awards vouchers
// spent at merchants, a service fund vouchers spent in the catalogue, only
// on the fund's service categories.
const (
	FundKindFood    = "food"
	FundKindService = "service"
)

// ErrCodeServiceVoucher is the conflict code of a merchant redeeming a
// service voucher.
const ErrCodeServiceVoucher = "service_voucher"

// MaxISEEEuro bounds a declared ISEE (as the application forms do).
const MaxISEEEuro = 1_000_000

// AuditISEEDeclared is the audit action of a citizen declaring their ISEE
// in their profile (detail: before and after).
const AuditISEEDeclared = "isee_declared"

// ProfileISEE is the ISEE a citizen declared in their profile.
type ProfileISEE struct {
	Euro      *int       `json:"isee_euro"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// ProfileISEE reads the ISEE in the profile of user userID.
func (a API) ProfileISEE(ctx context.Context, scope Scope, userID int64) (ProfileISEE, error) {
	var p ProfileISEE
	err := a.s.InTx(ctx, scope, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT isee_euro, isee_updated_at FROM users WHERE id = $1`, userID).Scan(&p.Euro, &p.UpdatedAt)
	})
	return p, MapError(err)
}

// SetProfileISEE records the ISEE (nil: none) a citizen declares in their
// profile, and its audit row (before and after) in the same transaction:
// the change is not made without its trail. requestID ties the row to the
// request. Setting the value already there changes nothing and writes no row.
func (a API) SetProfileISEE(ctx context.Context, citizen UserView, euro *int, requestID string) (ProfileISEE, error) {
	if citizen.Role != string(contract.RoleCitizen) {
		return ProfileISEE{}, errors.New("store: only citizens declare an ISEE in their profile")
	}
	if euro != nil && (*euro < 0 || *euro > MaxISEEEuro) {
		return ProfileISEE{}, fmt.Errorf("store: ISEE %d out of range", *euro)
	}
	var after ProfileISEE
	err := a.s.InTx(ctx, System, func(tx pgx.Tx) error {
		var before *int
		if err := tx.QueryRow(ctx, `SELECT isee_euro FROM users WHERE id = $1 AND role = 'citizen' FOR UPDATE`, citizen.ID).
			Scan(&before); err != nil {
			return err
		}
		if (before == nil) == (euro == nil) && (before == nil || *before == *euro) {
			return tx.QueryRow(ctx, `SELECT isee_euro, isee_updated_at FROM users WHERE id = $1`, citizen.ID).
				Scan(&after.Euro, &after.UpdatedAt)
		}
		if err := tx.QueryRow(ctx, `UPDATE users SET isee_euro = $2, isee_updated_at = now() WHERE id = $1
			RETURNING isee_euro, isee_updated_at`, citizen.ID, euro).Scan(&after.Euro, &after.UpdatedAt); err != nil {
			return err
		}
		detail, err := json.Marshal(map[string]any{"before": before, "after": euro})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (district_id, municipality_id, actor_id, actor_username, actor_role,
				action, detail, request_id)
			VALUES ($1, nullif($2, ''), $3, $4, 'citizen', $5, $6, $7)`,
			citizen.District, citizen.Municipality, citizen.ID, citizen.Username, AuditISEEDeclared, detail, requestID)
		return err
	})
	return after, MapError(err)
}
