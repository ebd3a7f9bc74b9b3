package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sportello/internal/store"
)

// TestADecisionIsRecordedOnce: a review task takes one decision. The same
// decision again (a retried write, or the decision sent again after its
// Update was lost: docs/operations.md) changes nothing and succeeds;
// another one is refused with CodeTaskDecided and changes nothing either,
// so a case never shows one decision while holding the money of another.
func TestADecisionIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := time.Now()
	decided := func(t *testing.T, err error) {
		t.Helper()
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Code != store.CodeTaskDecided {
			t.Fatalf("another decision on a decided task: %v, want the conflict %s", err, store.CodeTaskDecided)
		}
	}
	caseStatus := func(t *testing.T, caseID string) string {
		t.Helper()
		var s string
		if err := f.st.Pool.QueryRow(ctx, `SELECT status FROM cases WHERE id = $1`, caseID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// Approved: the same approval again is the same voucher; a rejection,
	// a request for information or another amount are refused.
	t1, c1 := f.openTask(t, "TSTEEE80A01L319E", "review", now)
	d1 := store.DecisionInput{TaskID: t1, CaseID: c1, Actor: "operatore.tradate", At: now}
	first, err := f.st.Award(ctx, store.AwardInput{DecisionInput: d1, AmountCents: 5000})
	if err != nil {
		t.Fatalf("award: %v", err)
	}
	again, err := f.st.Award(ctx, store.AwardInput{DecisionInput: d1, AmountCents: 5000})
	if err != nil || !again.Replayed || again.VoucherID != first.VoucherID {
		t.Fatalf("the same approval again: %+v, %v; want the voucher %s replayed", again, err, first.VoucherID)
	}
	_, err = f.st.Award(ctx, store.AwardInput{DecisionInput: d1, AmountCents: 7000})
	decided(t, err)
	decided(t, f.st.Reject(ctx, store.DecisionInput{TaskID: t1, CaseID: c1, Actor: "operatore.tradate", Reason: "no", At: now}))
	decided(t, f.st.RequestInformation(ctx, store.DecisionInput{TaskID: t1, CaseID: c1, Actor: "operatore.tradate", Reason: "?", At: now}))
	if s := caseStatus(t, c1); s != "approved" {
		t.Fatalf("case %s after the refused decisions, want approved", s)
	}

	// Rejected: the same rejection again succeeds; an approval is refused
	// and awards nothing.
	t2, c2 := f.openTask(t, "TSTFFF80A01L319F", "review", now)
	d2 := store.DecisionInput{TaskID: t2, CaseID: c2, Actor: "operatore.tradate", Reason: "reddito oltre la soglia", At: now}
	if err := f.st.Reject(ctx, d2); err != nil {
		t.Fatalf("reject: %v", err)
	}
	if err := f.st.Reject(ctx, d2); err != nil {
		t.Fatalf("the same rejection again: %v", err)
	}
	_, err = f.st.Award(ctx, store.AwardInput{DecisionInput: d2, AmountCents: 5000})
	decided(t, err)
	decided(t, f.st.FirstApproval(ctx, store.FirstApprovalInput{DecisionInput: d2, AmountCents: 5000}))
	if s := caseStatus(t, c2); s != "rejected" {
		t.Fatalf("case %s after the refused approval, want rejected", s)
	}
	var vouchers int
	if err := f.st.Pool.QueryRow(ctx, `SELECT count(*) FROM vouchers WHERE case_id = $1`, c2).Scan(&vouchers); err != nil || vouchers != 0 {
		t.Fatalf("%d vouchers for the rejected case (%v)", vouchers, err)
	}
	assertBooksBalance(t, f.st)
}
