package publish_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/signature"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// versionIndex reads src's version index and checks its signature with
// keys (when given) as a host does.
func versionIndex(t *testing.T, src store.Source, keys signature.Keys) (*artifact.VersionIndex, []byte) {
	t.Helper()
	ctx := context.Background()
	raw, err := store.ReadManifest(ctx, src, artifact.VersionIndexTag)
	if err != nil {
		t.Fatalf("reading the version index: %v", err)
	}
	vi, err := artifact.ParseVersionIndex(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		d := artifact.Digest(raw)
		sraw, err := store.ReadManifest(ctx, src, artifact.SignatureTag(d))
		if err != nil {
			t.Fatalf("reading the version index's signature: %v", err)
		}
		blob := func(ctx context.Context, bd v1.Descriptor) ([]byte, error) {
			return store.ReadBlob(ctx, src, bd, signature.MaxPayloadSize)
		}
		if _, err := signature.VerifyManifest(ctx, sraw, blob, keys, d); err != nil {
			t.Fatalf("the version index's signature: %v", err)
		}
	}
	return vi, raw
}

func openT(t *testing.T, target string) store.Source {
	t.Helper()
	src, err := store.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestVersionIndexSerial publishes from one publisher, then from another
// (a later run), then reindexes: each change of the index takes the next
// serial, signed; what changes nothing keeps it.
func TestVersionIndexSerial(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	keys := signature.Keys{&key.PublicKey}
	for name, target := range targets(t) {
		t.Run(name, func(t *testing.T) {
			newP := func(opts ...publish.Option) *publish.Publisher {
				p, err := publish.New(ctx, target, append([]publish.Option{publish.WithSigningKey(key)}, opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { p.Close() })
				return p
			}
			serial := func() *artifact.VersionIndex {
				vi, _ := versionIndex(t, openT(t, target), keys)
				return vi
			}
			p := newP()
			if err := p.Publish(ctx, module("6.1.0-1-amd64", "r")); err != nil {
				t.Fatal(err)
			}
			if vi := serial(); vi.Serial != 1 || !vi.Expires.IsZero() || vi.Origin == "" || vi.Newest() != "0.1.0" {
				t.Fatalf("first publish: serial %d, expires %v, origin %q, newest %q; want 1, none, the target, 0.1.0", vi.Serial, vi.Expires, vi.Origin, vi.Newest())
			}
			// A later run reads the serial where it left it.
			if err := newP().Publish(ctx, module("6.1.0-2-amd64", "r")); err != nil {
				t.Fatal(err)
			}
			if vi := serial(); vi.Serial != 2 {
				t.Fatalf("second publish: serial %d, want 2", vi.Serial)
			}
			// The same module again changes no index.
			if err := newP().Publish(ctx, module("6.1.0-2-amd64", "r")); err != nil {
				t.Fatal(err)
			}
			if vi := serial(); vi.Serial != 2 {
				t.Fatalf("the same module again: serial %d, want 2", vi.Serial)
			}
			st, err := newP().Reindex(ctx, publish.ReindexOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Serial != 2 || st.SerialWritten {
				t.Fatalf("reindex of a correct index: serial %d, written %v; want 2, false", st.Serial, st.SerialWritten)
			}
			expires := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
			st, err = newP(publish.WithExpires(expires)).Reindex(ctx, publish.ReindexOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if vi := serial(); st.Serial != 3 || !st.SerialWritten || vi.Serial != 3 || !vi.Expires.Equal(expires) {
				t.Fatalf("reindex with an expiry: stats serial %d written %v, index serial %d expires %v; want 3, true, 3, %v", st.Serial, st.SerialWritten, vi.Serial, vi.Expires, expires)
			}
		})
	}
}

// TestVersionIndexAfterShards: shards publish without index; the reindex
// writes the version index (serial 1) and a later reindex after a shard's
// new module the next one.
func TestVersionIndexAfterShards(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	target := store.LayoutPrefix + filepath.Join(t.TempDir(), "l")
	shard := newPublisher(t, target, publish.WithSigningKey(key), publish.WithoutIndex())
	if err := shard.Publish(ctx, module("6.1.0-1-amd64", "r")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadManifest(ctx, openT(t, target), artifact.VersionIndexTag); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a shard wrote the version index: %v", err)
	}
	ix := newPublisher(t, target, publish.WithSigningKey(key))
	for i, want := range []uint64{1, 2} {
		if i == 1 {
			if err := shard.Publish(ctx, module("6.1.0-2-amd64", "r")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ix.Reindex(ctx, publish.ReindexOptions{}); err != nil {
			t.Fatal(err)
		}
		if vi, _ := versionIndex(t, openT(t, target), signature.Keys{&key.PublicKey}); vi.Serial != want {
			t.Errorf("reindex %d: serial %d, want %d", i+1, vi.Serial, want)
		}
	}
}

// TestBundleCarriesVersionIndex: a bundle of a whole source carries the
// source's signed version index byte for byte; a bundle of part of it a
// new one with the same serial, signed with the key given, and none
// without a key.
func TestBundleCarriesVersionIndex(t *testing.T) {
	ctx := context.Background()
	key, _ := signature.GenerateKey()
	bundleKey, _ := signature.GenerateKey()
	target := store.LayoutPrefix + filepath.Join(t.TempDir(), "l")
	p := newPublisher(t, target, publish.WithSigningKey(key), publish.WithExpires(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)))
	for _, r := range []string{"6.1.0-1-amd64", "5.10.0-1-amd64"} {
		if err := p.Publish(ctx, module(r, "r")); err != nil {
			t.Fatal(err)
		}
	}
	srcVI, srcRaw := versionIndex(t, openT(t, target), signature.Keys{&key.PublicKey})
	for name, c := range map[string]struct {
		opts        publish.BundleOptions
		wantErr     error
		wantSame    bool
		wantSignKey *signature.Keys
	}{
		"whole":               {opts: publish.BundleOptions{}, wantSame: true, wantSignKey: &signature.Keys{&key.PublicKey}},
		"whole, key unused":   {opts: publish.BundleOptions{SigningKey: bundleKey}, wantSame: true, wantSignKey: &signature.Keys{&key.PublicKey}},
		"only, no key":        {opts: publish.BundleOptions{Only: regexp.MustCompile(`^6\.1`)}, wantErr: publish.ErrNoSigningKey},
		"only, with key":      {opts: publish.BundleOptions{Only: regexp.MustCompile(`^6\.1`), SigningKey: bundleKey}, wantSignKey: &signature.Keys{&bundleKey.PublicKey}},
		"one version, no key": {opts: publish.BundleOptions{Versions: []string{"0.1.0"}}, wantSame: true, wantSignKey: &signature.Keys{&key.PublicKey}},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.tar.zst")
			st, err := publish.WriteBundleFile(ctx, openT(t, target), file, c.opts)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("WriteBundleFile: %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			vi, raw := versionIndex(t, openT(t, file), *c.wantSignKey)
			if st.Serial != srcVI.Serial || vi.Serial != srcVI.Serial || !vi.Expires.Equal(srcVI.Expires) || vi.Origin != srcVI.Origin {
				t.Errorf("bundle index: serial %d (stats %d), expires %v, origin %q; want the source's %d, %v, %q",
					vi.Serial, st.Serial, vi.Expires, vi.Origin, srcVI.Serial, srcVI.Expires, srcVI.Origin)
			}
			if same := string(raw) == string(srcRaw); same != c.wantSame || st.Resigned == c.wantSame {
				t.Errorf("bundle index is the source's: %v, resigned %v; want %v", same, st.Resigned, c.wantSame)
			}
		})
	}
}

func TestBundleNeedsVersionIndex(t *testing.T) {
	ctx := context.Background()
	target := store.LayoutPrefix + filepath.Join(t.TempDir(), "l")
	p, err := publish.New(ctx, target, publish.WithoutSigning())
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	_, err = publish.WriteBundleFile(ctx, openT(t, target), filepath.Join(t.TempDir(), "b.tar.zst"), publish.BundleOptions{})
	if !errors.Is(err, publish.ErrNoVersionIndex) {
		t.Fatalf("WriteBundleFile of a source without a version index: %v, want %v", err, publish.ErrNoVersionIndex)
	}
}
