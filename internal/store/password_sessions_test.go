package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// A password chosen with a code ends every session of the account: the API's
// bearer tokens and the portal's web sessions live in auth_sessions alike.
func TestNewPasswordEndsEverySession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	api := f.st.API()
	maria, _, err := api.UserForLogin(ctx, "cittadino.tradate")
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"bearer-token", "web-session"} {
		if _, err := api.CreateSession(ctx, maria.ID, []byte(token), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// A live code for her account, used by the citizen.
	if err := f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET status = 'pending_activation' WHERE id = $1`, maria.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	code, err := api.ReissueActivationCode(ctx, staffScope(t, f.st, "operatore.tradate"), maria.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Activate(ctx, "cittadino.tradate", code.Code, "new-hash", now); err != nil {
		t.Fatalf("activate: %v", err)
	}
	for _, token := range []string{"bearer-token", "web-session"} {
		if _, _, err := api.SessionUser(ctx, []byte(token)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session %s survives the new password: %v", token, err)
		}
	}
}
