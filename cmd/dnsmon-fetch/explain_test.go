package main

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/cmd/internal/cli/clitest"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/install"
)

// TestExplain checks the advice dnsmon-fetch adds to the fetcher
// libraries' errors: the text is what README.md's Troubleshooting table
// quotes.
func TestExplain(t *testing.T) {
	ctx := t.Context()
	_, noKey := fetcher.Fetch(ctx, fetcher.WithSource("oci-layout:"+t.TempDir()))
	_, keyAndSkip := fetcher.Fetch(ctx, fetcher.WithSource("oci-layout:"+t.TempDir()),
		fetcher.WithPublicKeyFile("dnsmon.pub"), fetcher.WithInsecureSkipVerify())
	other := errors.New("reaching registry example.com: connection refused")
	rollback := &fetcher.RollbackError{Source: "r/x", Serial: 3, Highest: 7, State: "/var/lib/dnsmon/index-serials.json"}
	expired := &fetcher.ExpiredError{Source: "r/x", Serial: 3, Expires: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	clitest.CheckExplain(t, explain, map[string]clitest.Case{
		"no key": {Err: noKey, WantIs: fetcher.ErrNoKey,
			Want: "no public key to verify signatures with: pass --key FILE (the publisher's dnsmon.pub) or, to skip signature checks, --insecure-skip-verify"},
		"key and skip": {Err: keyAndSkip, WantIs: fetcher.ErrKeyAndSkipVerify,
			Want: "--key and --insecure-skip-verify exclude each other"},
		"unsigned": {Err: fmt.Errorf("%w: sha256:ab has no signature tag sha256-ab.sig", fetcher.ErrUnsigned), WantIs: fetcher.ErrUnsigned,
			Want: "module is not signed: sha256:ab has no signature tag sha256-ab.sig (publish with a signing key, or pass --insecure-skip-verify)"},
		"no uname": {Err: fmt.Errorf("%w: %w", fetcher.ErrDetectKernel, errors.New("uname: operation not permitted")), WantIs: fetcher.ErrDetectKernel,
			Want: "detecting the running kernel: uname: operation not permitted (pass --kernel)"},
		"kernel not installed": {
			Err:    fmt.Errorf("installing /tmp/dnsmon.ko: %w: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist", install.ErrKernelNotInstalled),
			WantIs: install.ErrKernelNotInstalled,
			Want:   "installing /tmp/dnsmon.ko: kernel not installed: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)"},
		"index unsigned": {Err: fmt.Errorf("%w: oci-layout:/l:_index (sha256:ab) has no signature tag sha256-ab.sig", fetcher.ErrIndexUnsigned), WantIs: fetcher.ErrIndexUnsigned,
			Want: "version index is not signed: oci-layout:/l:_index (sha256:ab) has no signature tag sha256-ab.sig (publish or reindex with a signing key: dnsmon-farm reindex --key; or pass --insecure-skip-verify)"},
		"no version index": {Err: fmt.Errorf("%w in r/x (tag _index)", fetcher.ErrNoVersionIndex), WantIs: fetcher.ErrNoVersionIndex,
			Want: "no version index in r/x (tag _index) (run dnsmon-farm reindex --key on the source with this release's dnsmon-farm)"},
		"rollback": {Err: rollback, WantIs: rollback,
			Want: "refusing the version index of r/x: its serial 3 is lower than serial 7 seen before (kept in /var/lib/dnsmon/index-serials.json): a rollback to an older publish, or a mirror that is behind; to accept it knowingly (the publisher restarted the repository), pass --allow-rollback"},
		"expired": {Err: expired, WantIs: expired,
			Want: "refusing the version index of r/x: serial 3 expired at 2026-01-01T00:00:00Z (now 2026-02-01T00:00:00Z): the publisher has not re-signed it since, or the source serves a stale copy; to accept it knowingly (an old bundle on a host without network), pass --allow-expired"},
		"other": {Err: other, WantIs: other, Want: other.Error()},
	})
}
