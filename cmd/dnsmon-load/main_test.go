package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/fetcher/loader/loadertest"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
)

// TestRun drives the command with a fake kernel: nothing is ever loaded.
func TestRun(t *testing.T) {
	mod := kmodtest.CompileModule(t)
	release, err := loader.RunningRelease()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args      []string
		finitErr  unix.Errno
		deleteErr unix.Errno
		release   string
		wantOut   string
		wantErr   string
		wantKind  error
	}{
		"load": {args: []string{mod, "ports=53,5353"}, release: kmodtest.CompiledRelease,
			wantOut: "loaded dnsmon 1.2.3 from " + mod + " with ports=53,5353; watch it with dnsmon-watch\n"},
		"already loaded": {args: []string{mod}, release: kmodtest.CompiledRelease, finitErr: unix.EEXIST, wantKind: loader.ErrAlreadyLoaded,
			wantErr: "loading " + mod + ": already loaded: module dnsmon is in the kernel (/sys/module/dnsmon); to replace it, stop dnsmon-watch, run dnsmon-load --unload, then load again"},
		"other kernel": {args: []string{mod}, release: "7.3-amd64", wantKind: loader.ErrWrongKernel,
			wantErr: `built for another kernel: the module is for 6.1.0-56-amd64`},
		"default file": {args: nil, wantKind: loader.ErrNoFile,
			wantErr: "loading /var/lib/dnsmon/modules/" + release + "/dnsmon.ko: no such file; run dnsmon-fetch"},
		"unload":     {args: []string{"--unload"}, wantOut: "unloaded dnsmon\n"},
		"not loaded": {args: []string{"--unload"}, deleteErr: unix.ENOENT, wantKind: loader.ErrNotLoaded, wantErr: "unloading dnsmon: not loaded: there is no module dnsmon in the kernel, so there is nothing to unload"},
		"in use":     {args: []string{"--unload"}, deleteErr: unix.EWOULDBLOCK, wantKind: loader.ErrInUse, wantErr: "unloading dnsmon: in use (dnsmon-watch running?"},
		"bad usage":  {args: []string{"--unload", mod}, wantErr: "--unload takes no FILE or parameters"},
		"bad flag":   {args: []string{"--bogus"}, wantErr: "flag provided but not defined: -bogus"},
		"help":       {args: []string{"-h"}, wantKind: flag.ErrHelp},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if name == "default file" {
				if _, err := os.Stat("/var/lib/dnsmon/modules/" + release + "/dnsmon.ko"); err == nil {
					t.Skip("a module is installed at the default path on this machine")
				}
			}
			k := &loadertest.Syscalls{FinitErr: tc.finitErr, DeleteErr: tc.deleteErr}
			opts := []loader.Option{loader.WithSyscalls(k)}
			if tc.release != "" {
				opts = append(opts, loader.WithRelease(tc.release))
			}
			var out, errOut bytes.Buffer
			err := run(t.Context(), &out, &errOut, tc.args, opts...)
			if tc.wantErr == "" && tc.wantKind == nil {
				if err != nil {
					t.Fatalf("run: %v", err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run: err = %v, want %q", err, tc.wantErr)
				}
				if tc.wantKind != nil && !errors.Is(err, tc.wantKind) {
					t.Errorf("run: err = %v, want kind %v", err, tc.wantKind)
				}
			}
			if out.String() != tc.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
			for _, c := range k.Calls() {
				if c.Flags != 0 && c.Op == "finit_module" {
					t.Errorf("finit_module flags %#x", c.Flags)
				}
			}
		})
	}
}

// TestDeps keeps the customer-side binary lean: no Docker, registry, YAML
// or HTTP code in the libraries of a tool that only loads a module. (It
// checks the libraries this command calls, not the binary: the shared
// cmd/internal/options package also holds dnsmon-fetch's flags.)
func TestDeps(t *testing.T) {
	for _, pkg := range []string{"../../fetcher/loader", "../../kmod/modinfo"} {
		checkDeps(t, pkg)
	}
}

func checkDeps(t *testing.T, pkg string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/docker/", "github.com/google/go-containerregistry", "gopkg.in/yaml", "net/http", "os/exec", "runtime/cgo"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
