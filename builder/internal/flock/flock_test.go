package flock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "x.lock")
	ctx := context.Background()

	unlockA, err := Shared(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := Shared(ctx, path)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := TryExclusive(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryExclusive under shared holders: err = %v, want ErrBusy", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := Exclusive(short, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Exclusive under shared holders: err = %v, want the context's deadline", err)
	}
	unlockA()
	unlockB()

	unlock, err := TryExclusive(path)
	if err != nil {
		t.Fatalf("TryExclusive with no holder: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := Exclusive(ctx, path)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a second exclusive lock did not wait: %v", err)
	case <-time.After(3 * pollInterval):
	}
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting exclusive lock was not granted after release")
	}
}
