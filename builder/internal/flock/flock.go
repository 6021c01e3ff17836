//go:build unix

// Package flock holds advisory file locks that several farm processes
// sharing one cache directory use to make each tree and image once, and that
// prune uses to leave alone what a running build reads.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ErrBusy is returned by TryExclusive when another process holds the lock.
var ErrBusy = errors.New("locked by another process")

// pollInterval is how often a waiting lock tries again: flock(2) cannot be
// interrupted by a context, so waiting polls a non-blocking attempt.
const pollInterval = 100 * time.Millisecond

// Exclusive takes an exclusive lock on path, creating the file, and waits
// for it until ctx ends. The returned func releases it.
func Exclusive(ctx context.Context, path string) (func(), error) {
	return lock(ctx, path, unix.LOCK_EX)
}

// Shared takes a shared lock on path: any number of holders, none while an
// exclusive holder has it.
func Shared(ctx context.Context, path string) (func(), error) {
	return lock(ctx, path, unix.LOCK_SH)
}

// TryExclusive takes an exclusive lock on path without waiting; it returns
// ErrBusy when another holder has the lock.
func TryExclusive(path string) (func(), error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", path, ErrBusy)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return release(f), nil
}

func lock(ctx context.Context, path string, how int) (func(), error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return release(f), nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s: %w", path, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func open(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

func release(f *os.File) func() {
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}
}
