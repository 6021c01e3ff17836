package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

const rel = "6.1.0-56-amd64"

// freshLayout publishes signed modules for the releases into a new layout,
// one publish run each, with opts, and returns the layout directory and
// the key files' directory.
func freshLayout(t *testing.T, dir, keyDir string, releases []string, opts ...publish.Option) {
	t.Helper()
	ctx := context.Background()
	key, err := signature.LoadPrivateKey(filepath.Join(keyDir, "dnsmon.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range releases {
		p, err := publish.New(ctx, store.LayoutPrefix+dir, append([]publish.Option{publish.WithSigningKey(key)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		meta := artifact.Meta{Version: "0.1.0", Release: r, Arch: "amd64", Vermagic: kmodtest.Vermagic(r), Created: time.Unix(0, 0)}
		if _, err := p.PublishArtifact(ctx, meta, kmodtest.KO(kmodtest.Module{Release: r})); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
}

// copyDir copies a layout directory (a snapshot of an older publish).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.RemoveAll(to)
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setTag points tag at raw in the layout dir, writing the blob.
func setTag(t *testing.T, dir, tag string, raw []byte) {
	t.Helper()
	d := artifact.Digest(raw)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Hex), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	editIndexJSON(t, dir, func(ms []map[string]any) []map[string]any {
		for _, m := range ms {
			if m["annotations"].(map[string]any)[artifact.AnnotationRefName] == tag {
				m["digest"], m["size"] = d.String(), len(raw)
				return ms
			}
		}
		return append(ms, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d.String(), "size": len(raw),
			"annotations": map[string]any{artifact.AnnotationRefName: tag}})
	})
}

// untag removes tag from the layout dir.
func untag(t *testing.T, dir, tag string) {
	t.Helper()
	editIndexJSON(t, dir, func(ms []map[string]any) []map[string]any {
		var out []map[string]any
		for _, m := range ms {
			if m["annotations"].(map[string]any)[artifact.AnnotationRefName] != tag {
				out = append(out, m)
			}
		}
		return out
	})
}

func editIndexJSON(t *testing.T, dir string, edit func([]map[string]any) []map[string]any) {
	t.Helper()
	p := filepath.Join(dir, "index.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var im map[string]any
	if err := json.Unmarshal(b, &im); err != nil {
		t.Fatal(err)
	}
	var ms []map[string]any
	for _, m := range im["manifests"].([]any) {
		ms = append(ms, m.(map[string]any))
	}
	im["manifests"] = edit(ms)
	if b, err = json.Marshal(im); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readLayout(t *testing.T, dir, ref string) []byte {
	t.Helper()
	src, err := store.Open(context.Background(), store.LayoutPrefix+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	raw, err := store.ReadManifest(context.Background(), src, ref)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestVersionIndexChecks runs dnsmon-fetch, and dnsmon-fetch --list,
// against layouts whose version index is older than one seen, expired,
// unsigned, tampered with or signed by another key, with and without the
// flags that accept the first two.
func TestVersionIndexChecks(t *testing.T) {
	ctx := context.Background()
	keyDir := t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(keyDir, false); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(keyDir, "dnsmon.pub")
	_, otherPub, err := signature.GenerateKeyFiles(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	// rollback publishes one module (serial 1), keeps a copy of the
	// layout, publishes another (serial 2), fetches, and puts the copy back.
	rollback := func(t *testing.T, dir, root string) {
		freshLayout(t, dir, keyDir, []string{rel})
		old := filepath.Join(filepath.Dir(dir), "old")
		copyDir(t, dir, old)
		freshLayout(t, dir, keyDir, []string{"5.10.0-1-amd64"})
		if _, err := fetcher.Fetch(ctx, fetcher.WithSource(store.LayoutPrefix+dir), fetcher.WithRelease(rel), fetcher.WithArch("amd64"),
			fetcher.WithPublicKeyFile(pub), fetcher.WithRoot(root)); err != nil {
			t.Fatal(err)
		}
		copyDir(t, old, dir)
	}
	for name, c := range map[string]struct {
		// setup makes the layout at dir and may fetch from it first, into
		// root.
		setup   func(t *testing.T, dir, root string)
		keys    []string
		flags   []string
		wantErr string
		// wantSerial is the serial kept for the layout after the fetch;
		// after --list, the one kept before.
		wantSerial uint64
	}{
		"fresh": {setup: func(t *testing.T, dir, _ string) { freshLayout(t, dir, keyDir, []string{rel, "5.10.0-1-amd64"}) },
			wantSerial: 2},
		"older serial":          {setup: rollback, wantErr: "its serial 1 is lower than serial 2 seen before", wantSerial: 2},
		"older serial, allowed": {setup: rollback, flags: []string{"--allow-rollback"}, wantSerial: 2},
		"expired": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel}, publish.WithExpires(time.Now().Add(-time.Hour)))
		}, wantErr: "expired at"},
		"expired, allowed": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel}, publish.WithExpires(time.Now().Add(-time.Hour)))
		}, flags: []string{"--allow-expired"}, wantSerial: 1},
		"not expired yet": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel}, publish.WithExpires(time.Now().Add(time.Hour)))
		}, wantSerial: 1},
		"unsigned index": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel})
			untag(t, dir, artifact.SignatureTag(artifact.Digest(readLayout(t, dir, artifact.VersionIndexTag))))
		}, wantErr: "version index is not signed"},
		"unsigned index, rollback flags do not help": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel})
			untag(t, dir, artifact.SignatureTag(artifact.Digest(readLayout(t, dir, artifact.VersionIndexTag))))
		}, flags: []string{"--allow-rollback", "--allow-expired"}, wantErr: "version index is not signed"},
		// A higher serial with the old signature copied beside it.
		"tampered index": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel})
			raw := readLayout(t, dir, artifact.VersionIndexTag)
			sig := readLayout(t, dir, artifact.SignatureTag(artifact.Digest(raw)))
			forged := bytes.Replace(raw, []byte(`"`+artifact.AnnotationSerial+`":"1"`), []byte(`"`+artifact.AnnotationSerial+`":"99"`), 1)
			setTag(t, dir, artifact.VersionIndexTag, forged)
			setTag(t, dir, artifact.SignatureTag(artifact.Digest(forged)), sig)
		}, wantErr: "refusing the version index"},
		"other key only": {setup: func(t *testing.T, dir, _ string) { freshLayout(t, dir, keyDir, []string{rel}) },
			keys: []string{otherPub}, wantErr: "refusing the version index"},
		"other key and the publisher's": {setup: func(t *testing.T, dir, _ string) { freshLayout(t, dir, keyDir, []string{rel}) },
			keys: []string{otherPub, pub}, wantSerial: 1},
		"no version index": {setup: func(t *testing.T, dir, _ string) {
			freshLayout(t, dir, keyDir, []string{rel})
			untag(t, dir, artifact.VersionIndexTag)
		}, wantErr: "no version index in"},
	} {
		// --list checks the version index as a fetch does, with the same
		// sentences, but keeps no serial: it installs nothing.
		for _, mode := range []string{"fetch", "list"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "layout")
				root := t.TempDir()
				c.setup(t, dir, root)
				keys := c.keys
				if keys == nil {
					keys = []string{pub}
				}
				args := []string{"--from", store.LayoutPrefix + dir, "--root", root}
				wantSerial := c.wantSerial
				if mode == "list" {
					args = append(args, "--list")
					wantSerial = keptSerial(t, root, dir)
				} else {
					args = append(args, "--kernel", rel, "--arch", "amd64")
				}
				for _, k := range keys {
					args = append(args, "--key", k)
				}
				var stdout, stderr bytes.Buffer
				err := run(ctx, &stdout, &stderr, append(args, c.flags...))
				if c.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), c.wantErr) {
						t.Fatalf("run: %v, want %q", err, c.wantErr)
					}
				} else if err != nil {
					t.Fatalf("run: %v\n%s", err, stderr.String())
				} else if mode == "list" && !strings.Contains(stdout.String(), rel) {
					t.Errorf("--list printed %q, want %s in it", stdout.String(), rel)
				}
				if got := keptSerial(t, root, dir); got != wantSerial {
					t.Errorf("serial kept for the layout: %d, want %d", got, wantSerial)
				}
			})
		}
	}
}

// keptSerial reads the serial kept for the layout dir under root.
func keptSerial(t *testing.T, root, dir string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "var/lib/dnsmon", fetcher.SerialsFile))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Sources map[string]uint64 }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Sources[store.LayoutPrefix+dir]
}

// TestBundleSharesItsOriginsSerial fetches from a layout and from bundles
// of it: the serial kept rises with each publish, and a bundle of an older
// publish is refused after a newer fetch, since a bundle counts as the
// repository it was made from.
func TestBundleSharesItsOriginsSerial(t *testing.T) {
	ctx := context.Background()
	keyDir := t.TempDir()
	if _, _, err := signature.GenerateKeyFiles(keyDir, false); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(keyDir, "dnsmon.pub")
	dir := filepath.Join(t.TempDir(), "layout")
	root := t.TempDir()
	bundle := func() string {
		src, err := store.Open(ctx, store.LayoutPrefix+dir)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		file := filepath.Join(t.TempDir(), "m.tar.zst")
		if _, err := publish.WriteBundleFile(ctx, src, file, publish.BundleOptions{}); err != nil {
			t.Fatal(err)
		}
		return file
	}
	fetch := func(from string, flags ...string) error {
		var stdout, stderr bytes.Buffer
		return run(ctx, &stdout, &stderr, append([]string{"--from", from, "--key", pub, "--kernel", rel, "--arch", "amd64", "--root", root}, flags...))
	}
	freshLayout(t, dir, keyDir, []string{rel})
	old := bundle()
	if err := fetch(old); err != nil {
		t.Fatalf("fetch from the first bundle: %v", err)
	}
	if got := keptSerial(t, root, dir); got != 1 {
		t.Fatalf("serial kept after the first bundle: %d, want 1 (under the bundle's origin, the layout)", got)
	}
	freshLayout(t, dir, keyDir, []string{"5.10.0-1-amd64"})
	if err := fetch(store.LayoutPrefix + dir); err != nil {
		t.Fatalf("fetch from the layout: %v", err)
	}
	if got := keptSerial(t, root, dir); got != 2 {
		t.Fatalf("serial kept after the second publish: %d, want 2", got)
	}
	if err := fetch(old); err == nil || !strings.Contains(err.Error(), "its serial 1 is lower than serial 2") || !strings.Contains(err.Error(), "--allow-rollback") {
		t.Fatalf("fetch from the older bundle: %v, want a rollback refused, naming --allow-rollback", err)
	}
	if err := fetch(bundle()); err != nil {
		t.Fatalf("fetch from a bundle of the second publish: %v", err)
	}
}
