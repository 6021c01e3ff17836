//go:build !linux

package builder

// unmountUnder is a no-op where debootstrap does not run.
func unmountUnder(string) error { return nil }
