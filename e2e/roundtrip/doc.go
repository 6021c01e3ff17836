// Package roundtrip tests the farm and the hosts against each other without
// a virtual machine: what builder/publish writes to a registry, an OCI image
// layout or a bundle, package fetcher resolves, verifies, writes and
// installs, and every kind of tampering in between is refused. It has no
// code of its own; like e2e it imports both sides, which nothing below the
// top layer may do, even in tests.
package roundtrip
