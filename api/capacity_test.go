package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"sportello/internal/bookingtest"
)

// TestCheckoutCapacityUnderConcurrency (issue 16): the capacity a service
// stores for its period is enforced at checkout. Eight citizens check out
// one unit each at once against three places left: exactly three bookings
// are made and the others get 409 capacity_full; a cancelled booking frees
// its place; the portal's checkout says why, in Italian and in English.
func TestCheckoutCapacityUnderConcurrency(t *testing.T) {
	e := newCheckoutEnv(t, false)
	ctx := context.Background()
	svc := bookingtest.ServiceID(t, e.st, bookingtest.Service)
	if _, err := e.st.Pool.Exec(ctx, `UPDATE services SET capacity = 3 WHERE id = $1`, svc); err != nil {
		t.Fatal(err)
	}
	const n = 8
	users := make([]string, n+2)
	for i := range users {
		users[i] = fmt.Sprintf("cittadino.capienza%d", i)
		e.addUser(users[i], "citizen", "tradate", "tradate", "")
		expectStatus(t, e.do("POST", "/api/v1/cart/items", users[i], map[string]any{"service_id": svc, "quantity": 1}), http.StatusOK)
	}
	body := map[string]any{"service_id": svc, "payment": "online"}
	statuses := make([]int, n)
	codes := make([]string, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("POST", "/api/v1/bookings", users[i], body, hdr{"Idempotency-Key": "cap-" + strconv.Itoa(i)})
			statuses[i] = r.status
			switch r.status {
			case http.StatusCreated:
				var b bookingOut
				r.json(t, &b)
				ids[i] = b.ID
			case http.StatusConflict:
				codes[i] = r.errorBody(t).Code
			}
		}()
	}
	wg.Wait()
	booked := 0
	var first string
	for i := range n {
		switch {
		case statuses[i] == http.StatusCreated:
			booked++
			if first == "" {
				first = ids[i]
			}
		case statuses[i] == http.StatusConflict && codes[i] == "capacity_full":
		default:
			t.Errorf("checkout %d: status %d code %q", i, statuses[i], codes[i])
		}
	}
	if booked != 3 {
		t.Fatalf("%d bookings for 3 places: %v", booked, statuses)
	}
	if c := e.count(`SELECT coalesce(sum(quantity), 0) FROM bookings WHERE service_id = $1 AND status <> 'cancelled'`, svc); c != 3 {
		t.Fatalf("%d units booked, want 3", c)
	}

	// The portal says why, in the citizen's language.
	b := e.browser()
	b.login(users[n])
	path := "/cart/items/" + strconv.FormatInt(svc, 10) + "/checkout"
	expectPage(t, b.post(path, url.Values{"payment": {"online"}, "key": {"form-it"}}), http.StatusConflict,
		"La cooperativa non ha più posti per questo servizio nel periodo in corso")
	b.get("/lang/en?next=/")
	expectPage(t, b.post(path, url.Values{"payment": {"online"}, "key": {"form-en"}}), http.StatusConflict,
		"The cooperative has no more places for this service in the current period")

	// A cancelled booking frees its place: the next checkout gets it, and
	// the one after is refused again.
	if _, err := e.st.Pool.Exec(ctx, `UPDATE bookings SET status = 'cancelled' WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, e.do("POST", "/api/v1/bookings", users[n], body, hdr{"Idempotency-Key": "cap-after"}), http.StatusCreated)
	r := e.do("POST", "/api/v1/bookings", users[n+1], body, hdr{"Idempotency-Key": "cap-last"})
	expectStatus(t, r, http.StatusConflict)
	if code := r.errorBody(t).Code; code != "capacity_full" {
		t.Fatalf("after the place was taken again: %s", r.body)
	}
}
