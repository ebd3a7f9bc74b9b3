package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestFiftyConcurrentRedemptionsOverHTTP: fifty tills spend EUR 10 each at
// the same moment against a voucher holding EUR 200: exactly twenty pass,
// the rest get 409, and the books balance.
func TestFiftyConcurrentRedemptionsOverHTTP(t *testing.T) {
	s := newStack(t)
	citizen := s.login("cittadino.tradate")
	// 1 member: EUR 150 by the rule; approve EUR 400 explicitly so the first tranche is EUR 200.
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 4000))
	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve", "amount_cents": 40000}, nil)

	var v voucher
	eventually(t, "the first tranche", func() bool {
		var raw json.RawMessage
		if citizen.call("GET", "/api/v1/vouchers", nil, nil, &raw) != http.StatusOK {
			return false
		}
		vs := listOf[voucher](t, raw)
		if len(vs) == 1 {
			v = vs[0]
		}
		return v.AvailableCents == 20000
	})

	merchant := s.login("esercente.tradate")
	const tills = 50
	codes := make([]int, tills)
	var wg sync.WaitGroup
	for i := 0; i < tills; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = merchant.call("POST", "/api/v1/redemptions", map[string]any{"code": v.Code, "amount_cents": 1000},
				map[string]string{"Idempotency-Key": fmt.Sprintf("till-%d", i)}, nil)
		}(i)
	}
	wg.Wait()
	created201, refused := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created201++
		case http.StatusConflict:
			refused++
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if created201 != 20 || refused != 30 {
		t.Fatalf("%d redemptions and %d refusals, want 20 and 30", created201, refused)
	}
	var detail voucher
	citizen.mustCall(http.StatusOK, "GET", "/api/v1/vouchers/"+v.ID, nil, &detail)
	if detail.AvailableCents != 0 || detail.PendingCents != 20000 {
		t.Fatalf("voucher after the rush: %+v", detail)
	}
	if n := s.count(`SELECT count(*) FROM redemptions`); n != 20 {
		t.Fatalf("%d redemption rows, want 20", n)
	}
	s.assertBooksBalance()
}
