package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"sportello/internal/apiclient"
	"sportello/internal/bookingtest"
	"sportello/internal/seed"
)

// typedClient logs user in through the generated client and returns a
// client that sends the bearer token. Like every request of these tests, the
// client's are also checked against the document by the test server.
func typedClient(t *testing.T, baseURL, user string) *apiclient.ClientWithResponses {
	t.Helper()
	ctx := context.Background()
	anon, err := apiclient.NewClientWithResponses(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	login, err := anon.CreateSessionWithResponse(ctx, apiclient.CreateSessionJSONRequestBody{Username: user, Password: seed.DemoPassword})
	if err != nil || login.JSON200 == nil {
		t.Fatalf("log in %s: %v", user, err)
	}
	token := login.JSON200.Token
	c, err := apiclient.NewClientWithResponses(baseURL, apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// poll retries cond until it holds (30 seconds at most).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClientFoodVoucherJourney drives the food-voucher journey through the
// typed client generated from the document: the citizen applies, an
// operator claims and approves the review task, the citizen reads the
// approved case and its voucher.
func TestClientFoodVoucherJourney(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const citizen, operator = "cittadino.tradate", "operatore.tradate"
	cz := typedClient(t, e.srv.URL, citizen)
	op := typedClient(t, e.srv.URL, operator)

	key := apiclient.IdempotencyKey("client-apply-1")
	applied, err := cz.CreateApplicationWithResponse(ctx, &apiclient.CreateApplicationParams{IdempotencyKey: &key},
		apiclient.CreateApplicationJSONRequestBody{Form: "buoni-spesa", Data: dataOf(application(t, citizen))})
	if err != nil || applied.JSON201 == nil {
		t.Fatalf("apply: %v %d %s", err, applied.StatusCode(), applied.Body)
	}
	caseID := applied.JSON201.Id

	var taskID string
	open := apiclient.ListTasksParamsStatus("open")
	poll(t, "the review task in the operator's inbox", func() bool {
		inbox, err := op.ListTasksWithResponse(ctx, &apiclient.ListTasksParams{Status: &open})
		if err != nil || inbox.JSON200 == nil {
			t.Fatalf("inbox: %v %s", err, inbox.Body)
		}
		for _, tk := range inbox.JSON200.Items {
			if tk.CaseId == caseID && e.workflowHasTask(caseID, tk.Id.String()) {
				taskID = tk.Id.String()
				return true
			}
		}
		return false
	})
	claimed, err := op.ClaimTaskWithResponse(ctx, taskID, &apiclient.ClaimTaskParams{})
	if err != nil || claimed.JSON200 == nil {
		t.Fatalf("claim: %v %d %s", err, claimed.StatusCode(), claimed.Body)
	}
	decided, err := op.DecideTaskWithResponse(ctx, taskID, &apiclient.DecideTaskParams{},
		apiclient.DecideTaskJSONRequestBody{Outcome: apiclient.DecisionRequestOutcome("approve")})
	if err != nil || decided.JSON200 == nil {
		t.Fatalf("decide: %v %d %s", err, decided.StatusCode(), decided.Body)
	}

	var voucherID string
	poll(t, "the approved case with its voucher", func() bool {
		got, err := cz.GetApplicationWithResponse(ctx, caseID)
		if err != nil || got.JSON200 == nil {
			t.Fatalf("case: %v %s", err, got.Body)
		}
		c := got.JSON200
		if c.Status == "approved" && c.Voucher != nil && c.Voucher.Id != nil {
			voucherID = *c.Voucher.Id
			return true
		}
		return false
	})
	voucher, err := cz.GetVoucherWithResponse(ctx, voucherID)
	if err != nil || voucher.JSON200 == nil {
		t.Fatalf("voucher: %v %d %s", err, voucher.StatusCode(), voucher.Body)
	}
	if v := voucher.JSON200; v.AvailableCents <= 0 || v.CaseId != caseID {
		t.Fatalf("voucher %s", voucher.Body)
	}
}

// TestClientBookingJourney books a service through the typed client: the
// citizen finds it in the catalogue, puts it in the cart and checks out with
// a service voucher; the cooperative finds the request in its inbox and
// accepts it with a date; the citizen's booking is then confirmed.
func TestClientBookingJourney(t *testing.T) {
	e := newCheckoutEnv(t, true)
	ctx := context.Background()
	const citizen, coop = "cittadino.tradate", "coop.baobab"
	voucherID := bookingtest.ServiceVoucher(t, e.st, bookingtest.VoucherSpec{Username: citizen, Cents: 100_000})
	cz := typedClient(t, e.srv.URL, citizen)
	co := typedClient(t, e.srv.URL, coop)

	q, cooperative := bookingtest.Service, "baobab"
	found, err := cz.ListServicesWithResponse(ctx, &apiclient.ListServicesParams{Q: &q, Cooperative: &cooperative})
	if err != nil || found.JSON200 == nil {
		t.Fatalf("catalogue: %v %d %s", err, found.StatusCode(), found.Body)
	}
	var serviceID int64
	for _, s := range found.JSON200.Items {
		if s.Name == bookingtest.Service {
			serviceID = int64(s.Id)
		}
	}
	if serviceID == 0 {
		t.Fatalf("%q is not in the catalogue: %s", bookingtest.Service, found.Body)
	}

	one := 1
	added, err := cz.AddCartItemWithResponse(ctx, apiclient.AddCartItemJSONRequestBody{ServiceId: serviceID, Quantity: &one})
	if err != nil || added.StatusCode() != http.StatusOK {
		t.Fatalf("add to cart: %v %d %s", err, added.StatusCode(), added.Body)
	}
	key := apiclient.IdempotencyKey("client-checkout-1")
	vid, err := parseUUID(voucherID)
	if err != nil {
		t.Fatal(err)
	}
	booked, err := cz.CreateBookingWithResponse(ctx, &apiclient.CreateBookingParams{IdempotencyKey: &key},
		apiclient.CreateBookingJSONRequestBody{ServiceId: serviceID, Payment: apiclient.CheckoutRequestPayment("voucher"), VoucherId: &vid})
	if err != nil || booked.JSON201 == nil || booked.JSON201.Id == (openapi_types.UUID{}) {
		t.Fatalf("checkout: %v %d %s", err, booked.StatusCode(), booked.Body)
	}
	bookingID := booked.JSON201.Id

	requests := apiclient.ListCoopBookingsParamsView("requests")
	poll(t, "the request in the cooperative's inbox", func() bool {
		inbox, err := co.ListCoopBookingsWithResponse(ctx, &apiclient.ListCoopBookingsParams{View: &requests})
		if err != nil || inbox.JSON200 == nil {
			t.Fatalf("coop inbox: %v %s", err, inbox.Body)
		}
		if inbox.JSON200.Items == nil {
			return false
		}
		for _, b := range *inbox.JSON200.Items {
			if b.Id == bookingID {
				return true
			}
		}
		return false
	})
	week := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	accepted, err := co.RespondToBookingWithResponse(ctx, bookingID, &apiclient.RespondToBookingParams{},
		apiclient.RespondToBookingJSONRequestBody{Accept: true, Sessions: &[]time.Time{week}})
	if err != nil || accepted.StatusCode() != http.StatusOK {
		t.Fatalf("accept: %v %d %s", err, accepted.StatusCode(), accepted.Body)
	}
	poll(t, "the confirmed booking", func() bool {
		got, err := cz.GetBookingWithResponse(ctx, bookingID)
		if err != nil || got.JSON200 == nil {
			t.Fatalf("booking: %v %s", err, got.Body)
		}
		return got.JSON200.Status == "confirmed"
	})
}

func parseUUID(s string) (openapi_types.UUID, error) {
	var u openapi_types.UUID
	err := u.UnmarshalText([]byte(s))
	return u, err
}
