package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
)

// TestInstallUninstall drives --install and --uninstall into a temporary
// root: every file appears, a second install changes nothing, and
// --uninstall removes them all.
func TestInstallUninstall(t *testing.T) {
	release, err := loader.RunningRelease()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "lib/modules", release), 0o755); err != nil {
		t.Fatal(err)
	}
	ko := filepath.Join(t.TempDir(), "dnsmon.ko")
	if err := os.WriteFile(ko, kmodtest.KO(kmodtest.Module{Release: release}), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args    []string
		wantOut []string
		wantErr string
	}{
		{args: []string{"--install", "--root", root, ko, "ring_size=128", "ports=53,5353"},
			wantOut: []string{"wrote     " + filepath.Join(root, install.ModprobePath), "installed dnsmon for kernel " + release + " with ring_size=128 ports=53,5353",
				// The test binary has no dnsmon-fetch beside it.
				"note: no dnsmon-fetch binary given: the kernel post-install hook runs " + install.FetchPath + ", which is not installed; put dnsmon-fetch beside dnsmon-load and install again"}},
		{args: []string{"--install", "--root", root, ko, "ring_size=128", "ports=53,5353"},
			wantOut: []string{"dnsmon is already installed for kernel " + release + " with ring_size=128 ports=53,5353: nothing changed"}},
		// Without FILE the installed copy is used again.
		{args: []string{"--install", "--root", root, "ring_size=256"},
			wantOut: []string{"wrote     " + filepath.Join(root, install.UnitPath)}},
		{args: []string{"--uninstall", "--root", root},
			wantOut: []string{"removed   " + filepath.Join(root, install.ModulePath(release)), "uninstalled dnsmon"}},
		{args: []string{"--uninstall", "--root", root},
			wantOut: []string{"dnsmon is not installed (no " + filepath.Join(root, install.ManifestPath) + "): nothing to remove"}},
		{args: []string{"--install", "--uninstall"}, wantErr: "exclude each other"},
		{args: []string{"--uninstall", ko}, wantErr: "--uninstall takes no FILE"},
		{args: []string{"--root", root, ko}, wantErr: "--root goes with --install or --uninstall"},
		{args: []string{"--install", "--root", root, ko, "ring_size=x y"}, wantErr: "ring_size"},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), &stdout, &stderr, s.args)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%q: error %v, want %q", s.args, err, s.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", s.args, err)
		}
		for _, w := range s.wantOut {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%q: output lacks %q:\n%s", s.args, w, stdout.String())
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	if strings.Join(left, " ") != filepath.Join(root, "lib/modules") {
		t.Errorf("left after uninstall: %q", left)
	}
}
