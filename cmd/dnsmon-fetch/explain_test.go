package main

import (
	"errors"
	"fmt"
	"testing"

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
	for name, tc := range map[string]struct {
		err    error
		want   string
		wantIs error
	}{
		"no key": {err: noKey, wantIs: fetcher.ErrNoKey,
			want: "no public key to verify signatures with: pass --key FILE (the publisher's dnsmon.pub) or, to skip signature checks, --insecure-skip-verify"},
		"key and skip": {err: keyAndSkip, wantIs: fetcher.ErrKeyAndSkipVerify,
			want: "--key and --insecure-skip-verify exclude each other"},
		"unsigned": {err: fmt.Errorf("%w: sha256:ab has no signature tag sha256-ab.sig", fetcher.ErrUnsigned), wantIs: fetcher.ErrUnsigned,
			want: "module is not signed: sha256:ab has no signature tag sha256-ab.sig (publish with a signing key, or pass --insecure-skip-verify)"},
		"no uname": {err: fmt.Errorf("%w: %w", fetcher.ErrDetectKernel, errors.New("uname: operation not permitted")), wantIs: fetcher.ErrDetectKernel,
			want: "detecting the running kernel: uname: operation not permitted (pass --kernel)"},
		"kernel not installed": {
			err:    fmt.Errorf("installing /tmp/dnsmon.ko: %w: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist", install.ErrKernelNotInstalled),
			wantIs: install.ErrKernelNotInstalled,
			want:   "installing /tmp/dnsmon.ko: kernel not installed: the module is for kernel 6.1.0-9-amd64, but /lib/modules/6.1.0-9-amd64 does not exist (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)"},
		"other": {err: other, wantIs: other, want: other.Error()},
	} {
		t.Run(name, func(t *testing.T) {
			got := explain(tc.err)
			if got == nil || got.Error() != tc.want {
				t.Fatalf("explain(%v) = %v, want %s", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.wantIs) {
				t.Errorf("explain(%v) does not wrap %v", tc.err, tc.wantIs)
			}
		})
	}
	if explain(nil) != nil {
		t.Error("explain(nil) is not nil")
	}
}
