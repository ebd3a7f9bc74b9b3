package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sportello/internal/testenv"
)

// Holders of one session lock take turns, also through different
// connections of one pool (as replicas would through their own); the lock
// goes back when fn fails or its context ends.
func TestWithSessionLockTakesTurns(t *testing.T) {
	ctx := context.Background()
	_, st := testenv.Postgres(t)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := st.WithSessionLock(ctx, "test:turns", func() error {
				n := inside.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d holders at once", most.Load())
	}
	boom := errors.New("boom")
	if err := st.WithSessionLock(ctx, "test:turns", func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	// After a failure the lock is free: a bounded wait gets it.
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.WithSessionLock(short, "test:turns", func() error { return nil }); err != nil {
		t.Fatalf("the lock stayed taken: %v", err)
	}
}
