package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
	builds := filepath.Join(dir, "builds")
	dp, err := builder.NewDirPublisher(builds)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"6.1.0-56-amd64", "6.12.117+deb12-amd64"} {
		m := builder.Module{Key: builder.Key{Module: "dnsmon", ModuleVersion: "0.1.0", Kernel: r, Arch: "amd64", Recipe: "r", SourceDigest: "s"},
			Target: matrix.Target{Group: "debian-12", Distro: "debian"}, Data: kmodtest.KO(kmodtest.Module{Release: r}), Created: time.Unix(0, 0)}
		if err := dp.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
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

// distVerbs are the dist worker's verbs, called directly so the test does
// not depend on the verb table in main.go.
var distVerbs = map[string]func(context.Context, io.Writer, io.Writer, []string) error{
	"keygen": runKeygen, "publish": runPublish, "bundle": runBundle,
}
