package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/internal/store"
)

type voucher struct {
	ID             string `json:"id"`
	Code           string `json:"code"`
	CaseID         string `json:"case_id"`
	AmountCents    int64  `json:"amount_cents"`
	AvailableCents int64  `json:"available_cents"`
	PendingCents   int64  `json:"pending_cents"`
	Status         string `json:"status"`
	Movements      []struct {
		Kind        string `json:"kind"`
		AmountCents int64  `json:"amount_cents"`
	} `json:"movements"`
}

func listOf[T any](t *testing.T, raw json.RawMessage) []T {
	t.Helper()
	var items []T
	if json.Unmarshal(raw, &items) == nil {
		return items
	}
	var wrapped struct {
		Items []T `json:"items"`
	}
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		t.Fatalf("not a list: %s", raw)
	}
	return wrapped.Items
}

// TestFoodVoucherJourney: a citizen applies, a social worker of the town
// approves, the first tranche is released, a merchant redeems part of it and
// the citizen and the supervisor see the result.
func TestFoodVoucherJourney(t *testing.T) {
	s := newStack(t)
	citizen := s.login("cittadino.tradate")
	tax := s.citizenTaxCode()

	var formsList json.RawMessage
	citizen.mustCall(http.StatusOK, "GET", "/api/v1/forms", nil, &formsList)
	if !strings.Contains(string(formsList), `"buoni-spesa"`) {
		t.Fatalf("forms list lacks buoni-spesa: %s", formsList)
	}
	var schema map[string]any
	citizen.mustCall(http.StatusOK, "GET", "/api/v1/forms/buoni-spesa", nil, &schema)
	if _, ok := schema["properties"]; !ok {
		if inner, ok := schema["schema"].(map[string]any); !ok || inner["properties"] == nil {
			t.Fatalf("form is not a JSON Schema: %v", schema)
		}
	}

	body := application(tax, "tradate", 3, 1, 8000)
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	hdr := map[string]string{"Idempotency-Key": "apply-1"}
	if code := citizen.call("POST", "/api/v1/applications", body, hdr, &created); code != http.StatusCreated || created.ID == "" {
		t.Fatalf("apply: %d %+v", code, created)
	}
	var replay struct {
		ID string `json:"id"`
	}
	if code := citizen.call("POST", "/api/v1/applications", body, hdr, &replay); code != http.StatusCreated || replay.ID != created.ID {
		t.Fatalf("idempotent replay: %d %q, want 201 %q", code, replay.ID, created.ID)
	}
	if n := s.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases after a replayed request", n)
	}

	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)

	// Another municipality's worker neither sees nor touches the task.
	vedano := s.login("operatore.vedano")
	var vedanoTasks json.RawMessage
	vedano.mustCall(http.StatusOK, "GET", "/api/v1/tasks?status=open", nil, &vedanoTasks)
	if strings.Contains(string(vedanoTasks), created.ID) {
		t.Fatalf("operatore.vedano sees a Tradate task: %s", vedanoTasks)
	}
	if code := vedano.call("POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil, nil); code != http.StatusNotFound {
		t.Fatalf("foreign claim: %d, want 404", code)
	}

	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil, nil); code != http.StatusConflict {
		t.Fatalf("decision before claiming: %d, want 409", code)
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	var decided struct {
		Status      string `json:"status"`
		AmountCents int64  `json:"amount_cents"`
		VoucherID   string `json:"voucher_id"`
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve", "reason": "requisiti verificati"}, &decided)
	// 3 members, 1 minor: 150 + 2 x 100 + 50 = EUR 400 by the fund's rule.
	if decided.Status != "approved" || decided.AmountCents != 40000 || decided.VoucherID == "" {
		t.Fatalf("decision: %+v", decided)
	}
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil, nil); code != http.StatusConflict {
		t.Fatalf("second decision: %d, want 409", code)
	}

	// The first tranche (50%) is released at once by the workflow.
	var v voucher
	eventually(t, "the first tranche", func() bool {
		var raw json.RawMessage
		if citizen.call("GET", "/api/v1/vouchers", nil, nil, &raw) != http.StatusOK {
			return false
		}
		vs := listOf[voucher](t, raw)
		if len(vs) != 1 {
			return false
		}
		v = vs[0]
		return v.AvailableCents == 20000
	})
	if v.PendingCents != 20000 || v.AmountCents != 40000 || len(v.Code) < 16 {
		t.Fatalf("voucher after the first tranche: %+v", v)
	}

	merchant := s.login("esercente.tradate")
	var red struct {
		ID             string `json:"id"`
		AmountCents    int64  `json:"amount_cents"`
		RemainingCents int64  `json:"remaining_cents"`
	}
	var raw json.RawMessage
	rhdr := map[string]string{"Idempotency-Key": "till-42"}
	if code := merchant.call("POST", "/api/v1/redemptions", map[string]any{"code": v.Code, "amount_cents": 1250}, rhdr, &raw); code != http.StatusCreated {
		t.Fatalf("redeem: %d %s", code, raw)
	}
	if err := json.Unmarshal(raw, &red); err != nil || red.RemainingCents != 18750 || red.AmountCents != 1250 {
		t.Fatalf("redemption: %s", raw)
	}
	for _, secret := range []string{tax, "Rossi", "Maria", created.ID} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("the merchant learns %q: %s", secret, raw)
		}
	}
	var again struct {
		ID string `json:"id"`
	}
	if code := merchant.call("POST", "/api/v1/redemptions", map[string]any{"code": v.Code, "amount_cents": 1250}, rhdr, &again); code != http.StatusCreated || again.ID != red.ID {
		t.Fatalf("retried redemption: %d %q want %q", code, again.ID, red.ID)
	}
	if code := merchant.call("POST", "/api/v1/redemptions", map[string]any{"code": v.Code, "amount_cents": 18751}, nil, nil); code != http.StatusConflict {
		t.Fatalf("overspend: %d, want 409", code)
	}
	if code := merchant.call("POST", "/api/v1/redemptions", map[string]any{"code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "amount_cents": 100}, nil, nil); code != http.StatusNotFound {
		t.Fatalf("unknown code: %d, want 404", code)
	}
	if code := citizen.call("POST", "/api/v1/redemptions", map[string]any{"code": v.Code, "amount_cents": 100}, nil, nil); code != http.StatusForbidden {
		t.Fatalf("citizen redeeming: %d, want 403", code)
	}
	if n := s.count(`SELECT count(*) FROM redemptions`); n != 1 {
		t.Fatalf("%d redemptions, want 1", n)
	}

	var detail voucher
	citizen.mustCall(http.StatusOK, "GET", "/api/v1/vouchers/"+v.ID, nil, &detail)
	if detail.AvailableCents != 18750 {
		t.Fatalf("citizen sees balance %d, want 18750", detail.AvailableCents)
	}
	kinds := map[string]int64{}
	for _, m := range detail.Movements {
		kinds[m.Kind] += m.AmountCents
	}
	if kinds["award"] != 40000 || kinds["release"] != 20000 || kinds["redemption"] != 1250 {
		t.Fatalf("movements: %+v", detail.Movements)
	}

	sup := s.login("supervisore")
	var timeline []struct {
		At     string `json:"at"`
		Type   string `json:"type"`
		Actor  string `json:"actor"`
		Detail any    `json:"detail"`
	}
	sup.mustCall(http.StatusOK, "GET", "/api/v1/applications/"+created.ID+"/timeline", nil, &timeline)
	seen := map[string]string{}
	for _, e := range timeline {
		if e.At == "" || e.Actor == "" {
			t.Fatalf("timeline entry without time or actor: %+v", e)
		}
		seen[e.Type] = e.Actor
	}
	for typ, actor := range map[string]string{"submitted": "cittadino.tradate", "precheck": "system", "task_opened": "system",
		"task_claimed": "operatore.tradate", "approved": "operatore.tradate", "tranche_released": "system"} {
		if seen[typ] != actor {
			t.Errorf("timeline %s by %q, want %q (timeline: %+v)", typ, seen[typ], actor, timeline)
		}
	}
	if code := s.login("supervisore.padova").call("GET", "/api/v1/applications/"+created.ID+"/timeline", nil, nil, nil); code != http.StatusNotFound {
		t.Fatalf("another district's supervisor reads the timeline: %d", code)
	}

	var funds json.RawMessage
	sup.mustCall(http.StatusOK, "GET", "/api/v1/funds", nil, &funds)
	type fund struct {
		ID             string `json:"id"`
		BudgetCents    int64  `json:"budget_cents"`
		AwardedCents   int64  `json:"awarded_cents"`
		ReleasedCents  int64  `json:"released_cents"`
		RedeemedCents  int64  `json:"redeemed_cents"`
		AvailableCents int64  `json:"available_cents"`
	}
	var tradate *fund
	for _, f := range listOf[fund](t, funds) {
		if strings.HasPrefix(f.ID, "buoni-spesa-tradate") { // not the service-voucher fund
			f := f
			tradate = &f
		}
	}
	if tradate == nil || tradate.AwardedCents != 40000 || tradate.ReleasedCents != 20000 || tradate.RedeemedCents != 1250 ||
		tradate.AvailableCents != tradate.BudgetCents-40000 {
		t.Fatalf("fund figures: %+v", tradate)
	}
	if code := citizen.call("GET", "/api/v1/funds", nil, nil, nil); code != http.StatusForbidden {
		t.Fatalf("citizen reads funds: %d, want 403", code)
	}
	s.assertBooksBalance()
	s.recordHistory(t, created.ID, "approved")
}

// TestRequestInformationThenReject: the worker asks for more information,
// the citizen answers with a correction, the case returns to the queue and
// is rejected with a reason.
func TestRequestInformationThenReject(t *testing.T) {
	s := newStack(t)
	citizen := s.login("cittadino.vedano")
	var tax string
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT tax_code FROM users WHERE username = 'cittadino.vedano'`).Scan(&tax); err != nil {
		t.Fatal(err)
	}
	created := citizen.apply(application(tax, "vedano-olona", 1, 0, 16000))
	if code := citizen.call("POST", "/api/v1/applications/"+created.ID+"/information",
		map[string]any{"data": map[string]any{"message": "too early"}}, nil, nil); code != http.StatusConflict {
		t.Fatalf("reply with no request pending: %d, want 409", code)
	}

	op := s.login("operatore.vedano")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "request_info"}, nil, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("request_info without a message: %d, want 422", code)
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision",
		map[string]any{"outcome": "request_info", "reason": "Il valore ISEE supera la soglia: allegare l'attestazione aggiornata"}, nil)
	if st := citizen.applicationStatus(created.ID); st != "info_requested" {
		t.Fatalf("status %q, want info_requested", st)
	}

	other := s.login("cittadino.tradate")
	if code := other.call("POST", "/api/v1/applications/"+created.ID+"/information",
		map[string]any{"data": map[string]any{"message": "not mine"}}, nil, nil); code != http.StatusNotFound && code != http.StatusForbidden {
		t.Fatalf("another citizen replies: %d", code)
	}
	if code := citizen.call("POST", "/api/v1/applications/"+created.ID+"/information",
		map[string]any{"data": map[string]any{"message": "corretto", "changes": map[string]any{"isee_euro": -5}}}, nil, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid change: %d, want 422", code)
	}
	citizen.mustCall(http.StatusOK, "POST", "/api/v1/applications/"+created.ID+"/information",
		map[string]any{"data": map[string]any{"message": "ISEE aggiornato", "changes": map[string]any{"isee_euro": 14500}}}, nil)

	tk2 := op.taskFor(created.ID)
	if tk2.ID == tk.ID {
		t.Fatal("the case came back with the old task")
	}
	var isee float64
	if err := s.st.Pool.QueryRow(context.Background(), `SELECT (data->>'isee_euro')::float FROM cases WHERE id = $1`, created.ID).Scan(&isee); err != nil || isee != 14500 {
		t.Fatalf("the reply's change was not stored: %v %v", isee, err)
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk2.ID+"/claim", nil, nil)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk2.ID+"/decision", map[string]any{"outcome": "reject", "reason": "Residenza non confermata"}, nil)
	eventually(t, "the rejection", func() bool { return citizen.applicationStatus(created.ID) == "rejected" })

	var timeline []struct {
		Type string `json:"type"`
	}
	citizen.mustCall(http.StatusOK, "GET", "/api/v1/applications/"+created.ID+"/timeline", nil, &timeline)
	var types []string
	for _, e := range timeline {
		types = append(types, e.Type)
	}
	joined := strings.Join(types, ",")
	for _, want := range []string{"information_requested", "information_received", "rejected"} {
		if !strings.Contains(joined, want) {
			t.Fatalf("timeline lacks %s: %s", want, joined)
		}
	}
	if n := s.count(`SELECT count(*) FROM vouchers`); n != 0 {
		t.Fatalf("a rejected case has %d vouchers", n)
	}
	s.recordHistory(t, created.ID, "info-then-rejected")
}

// TestAwardAboveTheRemainingBudget: 409 and the task stays with its worker.
func TestAwardAboveTheRemainingBudget(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	fundID := ""
	if err := s.st.Pool.QueryRow(ctx, `SELECT id FROM funds WHERE municipality_id = 'tradate' AND kind = 'food'`).Scan(&fundID); err != nil {
		t.Fatal(err)
	}
	// Leave EUR 100 in the fund: the rest goes back to the municipality.
	err := s.st.InTx(ctx, store.System, func(tx pgx.Tx) error {
		bal, err := store.Balance(ctx, tx, store.FundAccountID(fundID))
		if err != nil {
			return err
		}
		var district string
		if err := tx.QueryRow(ctx, `SELECT district_id FROM funds WHERE id = $1`, fundID).Scan(&district); err != nil {
			return err
		}
		_, _, err = store.Transfer(ctx, tx, store.TransferInput{Key: "test:drain", From: store.FundAccountID(fundID),
			To: store.FundingAccountID(district), Amount: bal - 10000, Kind: store.TransferFunding, FundID: fundID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 2, 0, 3000))
	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)
	var tooMuch struct {
		Error struct {
			Fields []struct {
				Pointer   string `json:"pointer"`
				Message   string `json:"message"`
				MessageIT string `json:"message_it"`
			} `json:"fields"`
		} `json:"error"`
	}
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve", "amount_cents": 55001}, nil, &tooMuch); code != http.StatusUnprocessableEntity ||
		len(tooMuch.Error.Fields) != 1 || tooMuch.Error.Fields[0].Pointer != "/amount_cents" || !strings.Contains(tooMuch.Error.Fields[0].MessageIT, "550,00") {
		t.Fatalf("award above the fund's maximum: %d %+v", code, tooMuch)
	}
	var errBody json.RawMessage
	if code := op.call("POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve", "amount_cents": 25000}, nil, &errBody); code != http.StatusConflict {
		t.Fatalf("award above the budget: %d %s, want 409", code, errBody)
	}
	var still json.RawMessage
	op.mustCall(http.StatusOK, "GET", "/api/v1/tasks?status=claimed", nil, &still)
	if !strings.Contains(string(still), tk.ID) {
		t.Fatalf("the task is no longer claimed after a refused award: %s", still)
	}
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve", "amount_cents": 10000}, nil)
	if n := s.count(`SELECT count(*) FROM vouchers`); n != 1 {
		t.Fatalf("%d vouchers", n)
	}
	s.assertBooksBalance()
}

// TestWorkerReplacedMidJourney: the worker that started the case stops after
// the task was claimed; a new worker process takes over from history and the
// case ends with exactly one award.
func TestWorkerReplacedMidJourney(t *testing.T) {
	s := newStack(t)
	citizen := s.login("cittadino.tradate")
	created := citizen.apply(application(s.citizenTaxCode(), "tradate", 1, 0, 5000))
	op := s.login("operatore.tradate")
	tk := op.taskFor(created.ID)
	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/claim", nil, nil)

	s.stopWorker()
	s.startWorker()

	op.mustCall(http.StatusOK, "POST", "/api/v1/tasks/"+tk.ID+"/decision", map[string]any{"outcome": "approve"}, nil)
	eventually(t, "the first tranche after the switch", func() bool {
		return s.count(`SELECT count(*) FROM transfers WHERE kind = 'release'`) == 1
	})
	if n := s.count(`SELECT count(*) FROM vouchers`); n != 1 {
		t.Fatalf("%d vouchers, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM transfers WHERE kind = 'award'`); n != 1 {
		t.Fatalf("%d award transfers, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM case_events WHERE type = 'approved'`); n != 1 {
		t.Fatalf("%d approvals on the timeline, want 1", n)
	}
	s.assertBooksBalance()
}

// recordHistory saves the case workflow's history for the replay test when
// SPORTELLO_RECORD_HISTORIES names a folder.
func (s *stack) recordHistory(t *testing.T, caseID, name string) {
	dir := os.Getenv("SPORTELLO_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	if err := writeHistory(context.Background(), s.tc, "case:"+caseID, dir+"/"+name+".json"); err != nil {
		t.Fatalf("record history: %v", err)
	}
}
