package main

import (
	"errors"
	"fmt"
	"testing"

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
		"other": {Err: other, WantIs: other, Want: other.Error()},
	})
}
