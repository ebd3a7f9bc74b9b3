package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLimiterBoundsConcurrentHashes: 64 password checks at once never run
// more than the bound together, and all of them complete.
func TestLimiterBoundsConcurrentHashes(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	// No wait limit in play (an hour): this tests the bound, and on a busy
	// machine 64 hashes two at a time can take more than a minute.
	l := NewLimiter(2, 64, time.Hour)
	var wg sync.WaitGroup
	oks := make(chan bool, 64)
	for range 64 {
		wg.Go(func() {
			ok, err := l.CheckPassword(context.Background(), h, "correct horse battery")
			if err != nil {
				t.Error(err)
			}
			oks <- ok
		})
	}
	wg.Wait()
	close(oks)
	n := 0
	for ok := range oks {
		if !ok {
			t.Error("a right password was refused")
		}
		n++
	}
	if n != 64 {
		t.Fatalf("%d checks completed, want 64", n)
	}
	if p := l.Peak(); p < 1 || p > 2 {
		t.Fatalf("peak concurrent hashes %d, want 1..2", p)
	}
}

// TestLimiterRefusesHopelessWaits: with every slot taken and the queue full,
// a caller is refused at once (ErrBusy); a waiting caller gives up with its
// context; a freed slot goes to a waiter.
func TestLimiterRefusesHopelessWaits(t *testing.T) {
	l := NewLimiter(1, 1, time.Hour)
	release := make(chan struct{})
	running := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- l.Do(context.Background(), func() { close(running); <-release }) }()
	<-running

	// One waiter fits in the queue.
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() { waited <- l.Do(ctx, func() {}) }()
	for l.Waiting() != 1 {
		time.Sleep(time.Millisecond) // polling a condition, not a timing assumption
	}
	// The next one is hopeless: refused without waiting.
	if err := l.Do(context.Background(), func() { t.Error("ran past a full queue") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v, want ErrBusy", err)
	}
	// The waiter's context ends: it gives up without running.
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	// A new waiter gets the slot once it is free.
	ran := make(chan struct{})
	go func() { waited <- l.Do(context.Background(), func() { close(ran) }) }()
	for l.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	<-ran
	if l.Peak() != 1 {
		t.Fatalf("peak %d, want 1", l.Peak())
	}
}
