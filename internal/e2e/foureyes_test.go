package e2e

import (
	"context"
	"net/http"
	"testing"

	"sportello/internal/auth"
)

// TestFourEyesOverHTTP: an award above the fund's threshold (EUR 500 in the
// demo funds) needs a second approval by a supervisor who did not give the
// first; the same person is refused, and only then is the voucher issued.
func TestFourEyesOverHTTP(t *testing.T) {
	s := newStack(t)
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Pool.Exec(context.Background(), `INSERT INTO users (username, password_hash, role, display_name, district_id)
		VALUES ('supervisore2', $1, 'supervisor', 'Seconda Supervisora', 'tradate')`, hash); err != nil {
		t.Fatal(err)
	}
	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 4, 2, 3000))

	sup := s.login("supervisore")
	tk := sup.taskFor(created.ID)
	sup.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	var first struct {
		Outcome     string `json:"outcome"`
		Status      string `json:"status"`
		AmountCents int64  `json:"amount_cents"`
	}
	// 4 members, 2 minors: the rule gives EUR 550, above the threshold.
	sup.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, &first)
	if first.Outcome != "first_approval" || first.Status != "in_review" || first.AmountCents != 55000 {
		t.Fatalf("first approval: %+v", first)
	}
	if n := s.count(`SELECT count(*) FROM vouchers`); n != 0 {
		t.Fatalf("a voucher before the second approval: %d", n)
	}

	var second task
	eventually(t, "the second-approval task", func() bool {
		var kind string
		err := s.st.Pool.QueryRow(context.Background(), `SELECT id::text, kind FROM tasks WHERE case_id = $1 AND status = 'open'`, created.ID).
			Scan(&second.ID, &kind)
		return err == nil && kind == "second_approval"
	})
	if code := sup.call("POST", "/api/v1/tasks/"+second.ID+"/claim", nil, nil, nil); code != http.StatusForbidden {
		t.Fatalf("the first approver claims the second approval: %d, want 403", code)
	}
	op := s.login("operatore.tradate")
	if code := op.call("POST", "/api/v1/tasks/"+second.ID+"/claim", nil, nil, nil); code != http.StatusForbidden {
		t.Fatalf("an operator claims the second approval: %d, want 403", code)
	}
	sup2 := s.login("supervisore2")
	sup2.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+second.ID+"/claim", nil, nil)
	var final struct {
		Status      string `json:"status"`
		AmountCents int64  `json:"amount_cents"`
		VoucherID   string `json:"voucher_id"`
	}
	sup2.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+second.ID+"/decision", map[string]any{"outcome": "approve"}, &final)
	if final.Status != "approved" || final.AmountCents != 55000 || final.VoucherID == "" {
		t.Fatalf("second approval: %+v", final)
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE case_id = $1 AND type IN ('first_approval', 'approved')`, created.ID); n != 2 {
		t.Fatalf("%d approval events on the timeline, want 2", n)
	}
	// With no mail server configured the notifications wait in the outbox.
	eventually(t, "the receipt notification in the outbox", func() bool {
		return s.count(`SELECT count(*) FROM notifications WHERE case_id = $1 AND kind = 'application_received'`, created.ID) == 1
	})
	s.assertBooksBalance()
}
