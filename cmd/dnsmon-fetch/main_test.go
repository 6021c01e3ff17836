package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	rel := "6.1.0-56-amd64"
	layout, keyDir := publishLayout(t, module{rel, ""})
	pub := filepath.Join(keyDir, "dnsmon.pub")
	// Another publisher key, as a host holds during a rotation.
	_, otherPub, err := signature.GenerateKeyFiles(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}

	for name, c := range map[string]struct {
		args       []string
		wantOut    string
		wantErr    string
		wantOutput bool
	}{
		"fetch":            {args: []string{"--from", layout, "--key", pub, "--kernel", rel, "--arch", "amd64"}, wantOut: "signature verified with sha256:", wantOutput: true},
		"two keys":         {args: []string{"--from", layout, "--key", otherPub, "--key", pub, "--kernel", rel, "--arch", "amd64"}, wantOut: "signature verified with sha256:", wantOutput: true},
		"other key only":   {args: []string{"--from", layout, "--key", otherPub, "--kernel", rel, "--arch", "amd64"}, wantErr: "does not verify"},
		"insecure":         {args: []string{"--from", layout, "--insecure-skip-verify", "--kernel", rel, "--arch", "amd64"}, wantOut: "SIGNATURE NOT CHECKED", wantOutput: true},
		"key and insecure": {args: []string{"--from", layout, "--key", pub, "--insecure-skip-verify"}, wantErr: "exclude each other"},
		"missing key file": {args: []string{"--from", layout, "--key", filepath.Join(keyDir, "nope.pub"), "--kernel", rel, "--arch", "amd64"}, wantErr: "reading public key"},
		"extra argument":   {args: []string{"--insecure-skip-verify", "x"}, wantErr: "unexpected arguments"},
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m", "dnsmon.ko")
			var stdout, stderr bytes.Buffer
			err := run(ctx, &stdout, &stderr, append(c.args, "-o", out))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("run: %v, want %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatalf("run: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), c.wantOut) {
				t.Errorf("stdout %q, want %q", stdout.String(), c.wantOut)
			}
			if _, err := os.Stat(out); (err == nil) != c.wantOutput {
				t.Errorf("output written: %v, want %v", err == nil, c.wantOutput)
			}
		})
	}
}

// module is one module publishLayout publishes.
type module struct{ release, distro string }

// publishLayout publishes signed modules of version 0.1.0 into a new OCI
// layout and returns its source string and the directory of the key pair.
func publishLayout(t *testing.T, ms ...module) (layout, keyDir string) {
	t.Helper()
	ctx := context.Background()
	keyDir = t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(keyDir, false); err != nil {
		t.Fatal(err)
	}
	key, err := signature.LoadPrivateKey(filepath.Join(keyDir, "dnsmon.key"))
	if err != nil {
		t.Fatal(err)
	}
	layout = store.LayoutPrefix + filepath.Join(t.TempDir(), "layout")
	p, err := publish.New(ctx, layout, publish.WithSigningKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, m := range ms {
		meta := artifact.Meta{Version: "0.1.0", Release: m.release, Arch: "amd64", Distro: m.distro, Vermagic: kmodtest.Vermagic(m.release), Created: time.Unix(0, 0)}
		if _, err := p.PublishArtifact(ctx, meta, kmodtest.KO(kmodtest.Module{Release: m.release})); err != nil {
			t.Fatal(err)
		}
	}
	return layout, keyDir
}
