package store_test

import (
	"context"
	"testing"

	"sportello/internal/store"
)

// Migration 023 (sign-in and reset) goes down with an OIDC session, a
// pending login, a reset link and a reset throttle row in place, and up again.
func TestSignInMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO oidc_logins (state_hash, nonce, verifier, expires_at) VALUES ('\x01', 'n', 'v', now() + interval '10 minutes')`,
		`INSERT INTO auth_sessions (token_hash, user_id, expires_at, method, loa)
			SELECT '\x02', id, now() + interval '1 hour', 'oidc', 'https://www.spid.gov.it/SpidL2' FROM users WHERE username = 'cittadino.tradate'`,
		`INSERT INTO password_resets (user_id, token_hash, created_at, expires_at)
			SELECT id, '\x03', now(), now() + interval '30 minutes' FROM users WHERE username = 'cittadino.tradate'`,
		`INSERT INTO login_throttle (key, kind, failures, last_failure) VALUES ('\x04', '` + store.ThrottleResetAccount + `', 1, now())`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	goesDownAndUp(t, conn, 23, `SELECT to_regclass('oidc_logins') IS NOT NULL OR to_regclass('password_resets') IS NOT NULL
		OR EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'auth_sessions' AND column_name IN ('method', 'loa'))`,
		"sign-in tables and columns")
	var sessions int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM auth_sessions WHERE token_hash = '\x02' AND method = 'password'`).Scan(&sessions); err != nil || sessions != 1 {
		t.Fatalf("the session after down and up: %d %v", sessions, err)
	}
}
