package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sportello/internal/seed"
	"sportello/internal/store"
	"sportello/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// `sportello verify` on the seeded demo database says the books balance
// (text and JSON); after a balance is changed behind the ledger's back it
// names the broken invariants, shows the account and fails.
func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	url, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, DemoVouchers: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runVerify(ctx, cfg, &out, nil); err != nil {
		t.Fatalf("sound books: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "the books balance") || !strings.Contains(out.String(), "ok    closed_booking_holds_nothing") {
		t.Fatalf("report:\n%s", out.String())
	}
	out.Reset()
	if err := runVerify(ctx, cfg, &out, []string{"--json", "--grace", "0s"}); err != nil {
		t.Fatalf("--json: %v", err)
	}
	var r store.LedgerReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || !r.OK() || r.Transfers == 0 {
		t.Fatalf("JSON report %+v, %v:\n%s", r, err, out.String())
	}

	account := store.FundAccountID(seed.FundID("vedano-olona", time.Now().Year()))
	if tag, err := st.Pool.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents - 3 WHERE id = $1`, account); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("corrupt %s: %v %v", account, tag, err)
	}
	out.Reset()
	err = runVerify(ctx, cfg, &out, nil)
	if err == nil || !strings.Contains(err.Error(), "2 violations") {
		t.Fatalf("broken books: %v", err)
	}
	for _, want := range []string{"FAIL  balances_sum_to_zero", "FAIL  balance_matches_transfers", account, "ok    no_negative_balance"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if err := runVerify(ctx, cfg, &out, []string{"--grace", "-1s"}); err == nil {
		t.Error("a negative grace was accepted")
	}
}
