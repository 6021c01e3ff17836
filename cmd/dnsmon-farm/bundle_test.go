package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/matrix"
)

// TestKeygenPublishBundle runs the dist verbs in order: keygen, publish
// from a build directory to a layout, bundle with --only, then fetches from
// the bundle.
func TestKeygenPublishBundle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	builds := writeBuilds(t, dir, map[string]string{"6.1.0-56-amd64": "amd64", "6.12.117+deb12-amd64": "amd64"})
	layout := store.LayoutPrefix + filepath.Join(dir, "layout")
	bundle := filepath.Join(dir, "m.tar.zst")
	steps := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"keygen", "-dir", dir}, "fingerprint sha256:", ""},
		{[]string{"keygen", "-dir", dir}, "", "refusing to replace"},
		{[]string{"publish", "--from", builds, "--to", layout}, "", "--key FILE is required"},
		{[]string{"publish", "--from", builds, "--to", layout, "--key", filepath.Join(dir, "dnsmon.key")}, "published 2 modules", ""},
		{[]string{"publish", "--from", builds, "--to", layout, "--key", filepath.Join(dir, "dnsmon.key")}, "published 0 modules to " + layout + " (2 already there)", ""},
		{[]string{"bundle", "--from", layout, "-o", filepath.Join(dir, "m.tar")}, "", "must end in .tar.zst"},
		{[]string{"publish", "--from", builds, "--to", layout, "--key", filepath.Join(dir, "dnsmon.key"), "--expires", "yesterday"}, "", "want a positive duration"},
		{[]string{"bundle", "--from", layout, "-o", bundle}, "the source's signed version index, serial 2", ""},
		{[]string{"bundle", "--from", layout, "-o", bundle, "--only", `^6\.12\.`}, "", "needs a version index of its own, signed: publishing needs a signing key; pass --key"},
		{[]string{"bundle", "--from", layout, "-o", bundle, "--only", `^6\.12\.`, "--key", filepath.Join(dir, "dnsmon.key")}, "wrote " + bundle + ": 1 modules of versions 0.1.0 (0 unsigned)", ""},
		{[]string{"bundle", "--from", layout, "-o", bundle, "--only", `^7\.`}, "", "would hold no module"},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		err := distVerbs[s.args[0]](ctx, &stdout, &stderr, s.args[1:])
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("%v: %v, want %q", s.args, err, s.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v\n%s", s.args, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), s.wantOut) {
			t.Errorf("%v: stdout %q, want %q", s.args, stdout.String(), s.wantOut)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "dnsmon.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dnsmon.key mode %v, %v", fi.Mode(), err)
	}
	out := filepath.Join(dir, "out", "dnsmon.ko")
	if _, err := fetcher.Fetch(ctx, fetcher.WithSource(bundle), fetcher.WithRelease("6.12.117+deb12-amd64"), fetcher.WithArch("amd64"),
		fetcher.WithPublicKeyFile(filepath.Join(dir, "dnsmon.pub")), fetcher.WithOutput(out)); err != nil {
		t.Fatalf("fetch from the bundle: %v", err)
	}
}

// writeBuilds writes fake modules of version 0.1.0 for kernels (release to
// GOARCH) into dir/builds, as dnsmon-farm build --to dir: does, and returns
// that directory.
func writeBuilds(t *testing.T, dir string, kernels map[string]string) string {
	t.Helper()
	builds := filepath.Join(dir, "builds")
	dp, err := builder.NewDirPublisher(builds)
	if err != nil {
		t.Fatal(err)
	}
	for r, arch := range kernels {
		m := builder.Module{Key: builder.Key{Module: "dnsmon", ModuleVersion: "0.1.0", Kernel: r, Arch: arch, Recipe: "r", SourceDigest: "s"},
			Target: matrix.Target{Group: "debian-12", Distro: "debian"}, Data: kmodtest.KO(kmodtest.Module{Release: r}), Created: time.Unix(0, 0)}
		if err := dp.Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	return builds
}

// distVerbs are the dist worker's verbs, called directly so the test does
// not depend on the verb table in main.go.
var distVerbs = map[string]func(context.Context, io.Writer, io.Writer, []string) error{
	"keygen": runKeygen, "publish": runPublish, "bundle": runBundle,
}

// TestBundleArch checks that one bundle carries amd64 and arm64 modules
// unless --arch selects, and that dnsmon-fetch --arch finds in it exactly
// the architectures it carries.
func TestBundleArch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	releases := map[string]string{"amd64": "6.1.0-56-amd64", "arm64": "6.1.0-56-arm64"}
	builds := writeBuilds(t, dir, map[string]string{releases["amd64"]: "amd64", releases["arm64"]: "arm64"})
	layout := store.LayoutPrefix + filepath.Join(dir, "layout")
	for _, args := range [][]string{{"keygen", "-dir", dir}, {"publish", "--from", builds, "--to", layout, "--key", filepath.Join(dir, "dnsmon.key")}} {
		if err := distVerbs[args[0]](ctx, io.Discard, io.Discard, args[1:]); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	for name, c := range map[string]struct {
		arches  []string
		wantOut string
		wantErr string
		has     []string // the architectures dnsmon-fetch finds in the bundle
	}{
		"every architecture": {nil, ": 2 modules", "", []string{"amd64", "arm64"}},
		"both named":         {[]string{"amd64", "arm64"}, ": 2 modules", "", []string{"amd64", "arm64"}},
		"arm64 alone":        {[]string{"arm64"}, ": 1 modules", "", []string{"arm64"}},
		"amd64 alone":        {[]string{"amd64"}, ": 1 modules", "", []string{"amd64"}},
		"none published":     {[]string{"riscv64"}, "", "architectures [riscv64]", nil},
		"uname spelling":     {[]string{"aarch64"}, "", "--arch arm64", nil},
	} {
		t.Run(name, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "m.tar.zst")
			// A bundle of part of the source signs a version index of its own.
			args := []string{"--from", layout, "-o", bundle, "--key", filepath.Join(dir, "dnsmon.key")}
			for _, a := range c.arches {
				args = append(args, "--arch", a)
			}
			var stdout bytes.Buffer
			err := runBundle(ctx, &stdout, io.Discard, args)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("bundle %v: %v, want %q", args, err, c.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(stdout.String(), c.wantOut) {
				t.Fatalf("bundle %v: %v, stdout %q, want %q", args, err, stdout.String(), c.wantOut)
			}
			for arch, r := range releases {
				_, err := fetcher.Fetch(ctx, fetcher.WithSource(bundle), fetcher.WithRelease(r), fetcher.WithArch(arch),
					fetcher.WithPublicKeyFile(filepath.Join(dir, "dnsmon.pub")), fetcher.WithOutput(filepath.Join(t.TempDir(), "dnsmon.ko")))
				if want := slices.Contains(c.has, arch); (err == nil) != want {
					t.Errorf("fetch %s (%s) from the bundle: %v, want it found: %v", r, arch, err, want)
				}
			}
		})
	}
}
