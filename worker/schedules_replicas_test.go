package worker

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"sportello/internal/contract"
	"sportello/internal/seed"
	"sportello/internal/testenv"
)

// Workers that start at the same moment (a rollout, a scale-up: issue 14)
// each put every schedule in place through their own client: none of them
// fails, and each schedule exists once. (Without EnsureSchedules' lock,
// four replicas doing so at once on a busy machine had Temporal's calls
// time out: "billing schedule ...: context deadline exceeded". Two keep
// the test's time down: with the lock each replica's turn costs a full
// pass over the schedules.)
func TestEnsureSchedulesFromReplicasAtOnce(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	if err := seed.Run(ctx, st, seed.Options{Demo: true, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tq := testenv.TaskQueue(t)
	payees, err := st.BillingPayees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{contract.LedgerScheduleID, contract.RetentionScheduleID, contract.OperationsWatchScheduleID, contract.CompanyStatementsScheduleID}
	for _, p := range payees {
		ids = append(ids, contract.BillingScheduleID(p.Kind, p.PayeeID, p.Municipality))
	}
	c := testenv.Temporal(t)
	t.Cleanup(func() {
		for _, id := range ids {
			_ = c.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
		}
	})
	const replicas = 2
	clients := make([]client.Client, replicas)
	for i := range clients {
		clients[i] = testenv.Temporal(t) // a connection of its own, as a process would have
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, rc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = EnsureSchedules(ctx, rc, st, SchedulesConfig{TaskQueue: tq, BillingPoll: time.Duration(i+1) * time.Hour})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	// Each schedule is there, once: describing it by id works, and the
	// list (Temporal's visibility, a moment behind) names it once.
	for _, id := range ids {
		if _, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx); err != nil {
			t.Errorf("schedule %s: %v", id, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		seen := map[string]int{}
		it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for it.HasNext() {
			s, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			seen[s.ID]++
		}
		missing := 0
		for _, id := range ids {
			switch seen[id] {
			case 0:
				missing++
			case 1:
			default:
				t.Fatalf("schedule %s listed %d times", id, seen[id])
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d schedules never listed", missing, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
