package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/install"
)

// TestExplain checks the advice dnsmon-load adds to the loader and install
// libraries' errors: the text is what README.md's Troubleshooting tables
// quote.
func TestExplain(t *testing.T) {
	other := errors.New("loading x.ko: read-only file system")
	for name, tc := range map[string]struct {
		err    error
		want   string
		wantIs error
	}{
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
