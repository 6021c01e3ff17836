//go:build !linux

package builder

import "context"

// unmountUnder is a no-op where debootstrap does not run.
func unmountUnder(string) error { return nil }

// lockFile does not lock across processes outside Linux.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
