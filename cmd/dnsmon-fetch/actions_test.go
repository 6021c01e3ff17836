package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/install"
)

// TestPersistence drives --save, --list, --install and --installed-kernels
// against an OCI layout with modules for two kernels, in a temporary root.
func TestPersistence(t *testing.T) {
	ctx := context.Background()
	layout, keyDir := publishLayout(t, module{"6.1.0-56-amd64", "debian-12"}, module{"5.10.0-32-amd64", "debian-11"},
		module{"6.8.0-155-generic", "ubuntu-24.04"}, module{"4.15.0-142-generic", "ubuntu-16.04"})
	pub := filepath.Join(keyDir, "dnsmon.pub")
	conf := filepath.Join(t.TempDir(), "etc/dnsmon/config.json")
	root := t.TempDir()
	for _, k := range []string{"6.1.0-56-amd64", "5.10.0-32-amd64", "7.0.0-1-amd64"} {
		os.MkdirAll(filepath.Join(root, "lib/modules", k, "kernel"), 0o755)
	}
	steps := []struct {
		name    string
		args    []string
		wantOut []string
		notOut  []string
		wantErr string
	}{
		{name: "save nothing", args: []string{"--save"}, wantErr: "--save needs"},
		{name: "save", args: []string{"--from", layout, "--key", pub, "--save"}, wantOut: []string{"saved " + conf + ": source " + layout + ", key " + pub}},
		{name: "list", args: []string{"--list", "--root", root}, wantOut: []string{"RELEASE", "5.10.0-32-amd64     amd64  debian-11     0.1.0", "6.1.0-56-amd64      amd64  debian-12     0.1.0", "6.8.0-155-generic   amd64  ubuntu-24.04  0.1.0"}},
		{name: "list ubuntu", args: []string{"--list", "--distro", "ubuntu", "--root", root},
			wantOut: []string{"4.15.0-142-generic  amd64  ubuntu-16.04  0.1.0", "6.8.0-155-generic   amd64  ubuntu-24.04  0.1.0"}, notOut: []string{"debian"}},
		{name: "list distro json", args: []string{"--list", "--distro", "debian-11", "--json", "--root", root}, wantOut: []string{`"release": "5.10.0-32-amd64"`}},
		{name: "install one", args: []string{"--kernel", "5.10.0-32-amd64", "--install", "--root", root},
			wantOut: []string{"5.10.0-32-amd64: installed dnsmon 0.1.0 at /lib/modules/5.10.0-32-amd64/updates/dnsmon.ko, signature verified with sha256:"}},
		{name: "install missing", args: []string{"--kernel", "7.0.0-1-amd64", "--install", "--root", root},
			wantOut: []string{"7.0.0-1-amd64: NO MODULE YET at " + layout, "WARNING: dnsmon will NOT be loaded after booting 7.0.0-1-amd64"}, wantErr: "no dnsmon 0.1.0 module for kernel 7.0.0-1-amd64"},
		{name: "installed kernels", args: []string{"--installed-kernels", "--root", root},
			wantOut: []string{"5.10.0-32-amd64: already installed dnsmon 0.1.0", "6.1.0-56-amd64: installed dnsmon 0.1.0", "7.0.0-1-amd64: NO MODULE YET"},
			wantErr: "no module yet for 7.0.0-1-amd64"},
		{name: "exclusive", args: []string{"--install", "--list"}, wantErr: "exclude each other"},
		{name: "kernel with all", args: []string{"--installed-kernels", "--kernel", "x"}, wantErr: "--installed-kernels takes no --kernel"},
		{name: "json without list", args: []string{"--json"}, wantErr: "--distro and --json go with --list"},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		err := run(ctx, &stdout, &stderr, append([]string{"--config", conf}, s.args...))
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%s: error %v, want %q", s.name, err, s.wantErr)
			}
		} else if err != nil {
			t.Errorf("%s: %v\n%s", s.name, err, stderr.String())
		}
		for _, w := range s.wantOut {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%s: stdout lacks %q:\n%s", s.name, w, stdout.String())
			}
		}
		for _, w := range s.notOut {
			if strings.Contains(stdout.String(), w) {
				t.Errorf("%s: stdout has %q:\n%s", s.name, w, stdout.String())
			}
		}
		if s.name == "list distro json" {
			var got []fetcher.Available
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got) != 1 {
				t.Errorf("--json output %q: %v", stdout.String(), err)
			}
		}
	}
	m, err := install.ReadManifest(install.WithRoot(root))
	if err != nil || len(m.Files) != 2 {
		t.Errorf("manifest %+v, %v", m, err)
	}
}
