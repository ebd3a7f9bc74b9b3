package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

// A call's budget is booked only once its commitment is confirmed
// (migration 036): publishing moves the call to publishing with nothing
// booked and its terms frozen; a refusal puts it back to draft, still with
// nothing booked; the confirmation records the commitment, creates the fund
// and funds it once, however often it is applied; the ledger check reports
// a published call without its commitment, or of another amount, and a
// call funded while not published.
func TestCallFundedOnlyOnceCommitted(t *testing.T) {
	f, ctx, now := newFixture(t), context.Background(), time.Now()
	api, tradate := f.st.API(), store.Scope{Kind: "supervisor", District: "tradate"}
	// The seed imported the form's embedded versions: version 1 is published.
	terms := store.CallTerms{Municipality: "tradate", Name: "Bando finanziato", FormID: "buoni-spesa", FormVersion: 1,
		Rule: []byte(`{}`), Tranches: []byte(`[]`), BudgetCents: 700_00,
		OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
	c, err := api.CreateCall(ctx, tradate, "call-funded", terms, "supervisore", now)
	if err != nil {
		t.Fatal(err)
	}
	booked := func() (transfers int, funds int) {
		if err := f.st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM transfers WHERE fund_id = $1),
			(SELECT count(*) FROM funds WHERE id = $1)`, c.ID).Scan(&transfers, &funds); err != nil {
			t.Fatal(err)
		}
		return transfers, funds
	}
	conflict := func(err error, code string) bool {
		var ce *store.ConflictError
		return errors.As(err, &ce) && ce.Code == code
	}

	// No confirmation yet: nothing opens, nothing moves.
	if _, err := api.OpenCommittedCall(ctx, c.ID, "IMP-1", c.BudgetCents, now); !conflict(err, "call_not_publishing") {
		t.Fatalf("a draft opened: %v", err)
	}
	got, err := api.BeginCallPublication(ctx, tradate, c.ID, now)
	if err != nil || got.Status != store.StatusPublishing {
		t.Fatalf("begin: %+v %v", got, err)
	}
	if again, err := api.BeginCallPublication(ctx, tradate, c.ID, now); err != nil || again.Status != store.StatusPublishing {
		t.Fatalf("begin again: %+v %v", again, err)
	}
	if _, err := api.UpdateCall(ctx, tradate, c.ID, terms, now); !conflict(err, "call_publishing") {
		t.Fatalf("terms changed while publishing: %v", err)
	}
	if n, m := booked(); n != 0 || m != 0 {
		t.Fatalf("publishing: %d transfers, %d funds", n, m)
	}

	// Refused: a draft again, with the refusal, nothing booked; editable.
	got, err = api.RefuseCallFunding(ctx, c.ID, "budget_exceeded", now)
	if err != nil || got.Status != store.StatusDraft || got.FundingRefusal != "budget_exceeded" {
		t.Fatalf("refused: %+v %v", got, err)
	}
	if n, m := booked(); n != 0 || m != 0 {
		t.Fatalf("refused: %d transfers, %d funds", n, m)
	}
	terms.BudgetCents = 500_00
	if _, err := api.UpdateCall(ctx, tradate, c.ID, terms, now); err != nil {
		t.Fatal(err)
	}
	if got, err = api.BeginCallPublication(ctx, tradate, c.ID, now); err != nil || got.FundingRefusal != "" {
		t.Fatalf("begin after the refusal: %+v %v", got, err)
	}

	// Confirmed: another amount is refused; the budget's is booked once.
	if _, err := api.OpenCommittedCall(ctx, c.ID, "IMP-1", 700_00, now); !conflict(err, "commitment_amount") {
		t.Fatalf("a commitment of the old budget: %v", err)
	}
	funding := store.FundingAccountID("tradate")
	before, err := store.Balance(ctx, f.st.Pool, funding)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err = api.OpenCommittedCall(ctx, c.ID, "IMP-1", 500_00, now)
		if err != nil || got.Status != store.StatusPublished || got.CommitmentNumber != "IMP-1" || got.CommitmentCents != 500_00 || got.CommittedAt == nil {
			t.Fatalf("confirmed: %+v %v", got, err)
		}
	}
	if n, m := booked(); n != 1 || m != 1 {
		t.Fatalf("confirmed twice: %d transfers, %d funds", n, m)
	}
	after, _ := store.Balance(ctx, f.st.Pool, funding)
	if fund, _ := store.Balance(ctx, f.st.Pool, store.FundAccountID(c.ID)); fund != 500_00 || before-after != 500_00 {
		t.Fatalf("fund %d, funding moved %d", fund, before-after)
	}
	if _, err := api.OpenCommittedCall(ctx, c.ID, "IMP-2", 500_00, now); !conflict(err, "call_not_publishing") {
		t.Fatalf("another commitment: %v", err)
	}
	if _, err := api.BeginCallPublication(ctx, tradate, c.ID, now); !conflict(err, "call_published") {
		t.Fatalf("published again: %v", err)
	}
	if got, err := api.RefuseCallFunding(ctx, c.ID, "refused", now); err != nil || got.Status != store.StatusPublished {
		t.Fatalf("a late refusal changed a published call: %+v %v", got, err)
	}

	r, err := store.VerifyLedger(ctx, f.st.Pool, store.VerifyOptions{})
	if err != nil || !r.OK() {
		t.Fatalf("ledger: %v (%s)", violated(r), r.FirstProblem())
	}
	for name, sql := range map[string]string{
		"a published call without its commitment": `UPDATE calls SET commitment_number = NULL, commitment_cents = NULL, committed_at = NULL WHERE id = $1`,
		"a commitment of another amount":          `UPDATE calls SET commitment_cents = commitment_cents + 1 WHERE id = $1`,
		"a call funded while being published":     `UPDATE calls SET status = 'publishing', published_at = NULL, commitment_number = NULL, commitment_cents = NULL, committed_at = NULL WHERE id = $1`,
	} {
		t.Run(name, func(t *testing.T) {
			tx, err := f.st.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, sql, c.ID); err != nil {
				t.Fatal(err)
			}
			if got := violated(verifyIn(t, tx)); len(got) != 1 || got["call_fund_committed"] != 1 {
				t.Errorf("violations %v, want call_fund_committed once", got)
			}
		})
	}
	// The table refuses a commitment on a call that is not published.
	err = f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE calls SET status = 'draft', published_at = NULL WHERE id = $1`, c.ID)
		return err
	})
	if err == nil {
		t.Error("a committed call went back to draft")
	}
}

// Migration 036 (call funding) goes down and up.
func TestCallFundingMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 36, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'calls'
		AND column_name IN ('commitment_number', 'commitment_cents', 'committed_at', 'funding_refusal'))`, "call funding columns")
}

// A publication withdrawn before the accounting system answered
// (migration 038): the call is a draft again with the withdrawal (who,
// when), nothing booked, its terms editable; the same withdrawal again
// changes nothing; a draft not being published, or a call published
// meanwhile, is a conflict; publishing it again clears the withdrawal.
func TestCallPublicationCancelled(t *testing.T) {
	f, ctx, now := newFixture(t), context.Background(), time.Now().UTC().Truncate(time.Millisecond)
	api, tradate := f.st.API(), store.Scope{Kind: "supervisor", District: "tradate"}
	terms := store.CallTerms{Municipality: "tradate", Name: "Bando ritirato", FormID: "buoni-spesa", FormVersion: 1,
		Rule: []byte(`{}`), Tranches: []byte(`[]`), BudgetCents: 300_00,
		OpensAt: now.Add(-time.Hour), ClosesAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
	c, err := api.CreateCall(ctx, tradate, "call-cancelled", terms, "supervisore", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CancelCallPublication(ctx, c.ID, "supervisore", now); !isConflict(err, "call_not_publishing") {
		t.Fatalf("a draft withdrawn: %v", err)
	}
	if _, err := api.CancelCallPublication(ctx, "no-such-call", "supervisore", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown call withdrawn: %v", err)
	}
	if _, err := api.BeginCallPublication(ctx, tradate, c.ID, now); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		got, err := api.CancelCallPublication(ctx, c.ID, "supervisore", now.Add(time.Duration(i)*time.Minute))
		if err != nil || got.Status != store.StatusDraft || got.FundingRefusal != store.FundingCancelled ||
			got.PublicationCancelledBy != "supervisore" || got.PublicationCancelledAt == nil || !got.PublicationCancelledAt.Equal(now) {
			t.Fatalf("withdrawal %d: %+v %v", i+1, got.CallFunding, err)
		}
	}
	var transfers, funds int
	if err := f.st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM transfers WHERE fund_id = $1),
		(SELECT count(*) FROM funds WHERE id = $1)`, c.ID).Scan(&transfers, &funds); err != nil || transfers != 0 || funds != 0 {
		t.Fatalf("withdrawn: %d transfers, %d funds (%v)", transfers, funds, err)
	}
	terms.BudgetCents = 200_00
	if got, err := api.UpdateCall(ctx, tradate, c.ID, terms, now); err != nil || got.BudgetCents != 200_00 {
		t.Fatalf("terms after the withdrawal: %+v %v", got, err)
	}
	got, err := api.BeginCallPublication(ctx, tradate, c.ID, now)
	if err != nil || got.Status != store.StatusPublishing || got.FundingRefusal != "" || got.PublicationCancelledBy != "" || got.PublicationCancelledAt != nil {
		t.Fatalf("published again: %+v %v", got, err)
	}
	if _, err := api.OpenCommittedCall(ctx, c.ID, "IMP-9", 200_00, now); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CancelCallPublication(ctx, c.ID, "supervisore", now); !isConflict(err, "call_published") {
		t.Fatalf("a published call withdrawn: %v", err)
	}
	// The table refuses a withdrawal recorded on a call that is not a draft.
	err = f.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE calls SET publication_cancelled_by = 'x', publication_cancelled_at = now() WHERE id = $1`, c.ID)
		return err
	})
	if err == nil {
		t.Error("a published call recorded as withdrawn")
	}
}

// Migration 038 (publication withdrawn) goes down and up.
func TestCallPublicationCancelMigrationGoesDownAndUp(t *testing.T) {
	conn := seededConn(t)
	goesDownAndUp(t, conn, 38, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'calls'
		AND column_name IN ('publication_cancelled_by', 'publication_cancelled_at'))`, "publication withdrawal columns")
}
