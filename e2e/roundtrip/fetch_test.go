package roundtrip_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/klauspost/compress/zstd"
)

// fastRetry keeps failing tests quick.
var fastRetry = transport.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 2}

type mod struct {
	version, release, distro string
	// vermagic, when set, is the release the .ko's vermagic names
	// (a mislabelled build).
	vermagic string
}

var mods = []mod{
	{"0.1.0", "6.1.0-56-amd64", "debian-12", ""},
	{"0.1.0", "6.1.0-57-amd64", "debian-12", ""},
	{"0.1.0", "6.1.0-56-cloud-amd64", "debian-12", ""},
	{"0.1.0", "6.12.117+deb12-amd64", "debian-12", ""},
	{"0.1.0", "5.14.0-427.13.1.el9_4.x86_64", "rocky-9", ""},
	{"0.2.0", "6.1.0-56-amd64", "debian-12", ""},
	{"0.2.0", "6.12.117+deb12-amd64", "debian-12", ""},
	{"0.2.0", "6.1.0-99-amd64", "debian-12", "6.1.0-98-amd64"},
}

func ko(m mod) []byte {
	rel := m.release
	if m.vermagic != "" {
		rel = m.vermagic
	}
	return kmodtest.KO(kmodtest.Module{Version: m.version, Release: rel, Padding: 4096})
}

// publishAll publishes mods to target, signed with key (unsigned when nil),
// and returns each module's manifest digest by "version/release".
func publishAll(t *testing.T, target string, key *ecdsa.PrivateKey, ms []mod) map[string]v1.Hash {
	t.Helper()
	ctx := context.Background()
	opts := []publish.Option{publish.WithRetryBackoff(fastRetry)}
	if key != nil {
		opts = append(opts, publish.WithSigningKey(key))
	} else {
		opts = append(opts, publish.WithoutSigning())
	}
	p, err := publish.New(ctx, target, opts...)
	if err != nil {
		t.Fatalf("publish.New(%q): %v", target, err)
	}
	defer p.Close()
	out := map[string]v1.Hash{}
	for _, m := range ms {
		vm := m.release
		if m.vermagic != "" {
			vm = m.vermagic
		}
		meta := artifact.Meta{Version: m.version, Release: m.release, Arch: "amd64", Distro: m.distro,
			Vermagic: kmodtest.Vermagic(vm), Srcversion: "0123456789ABCDEF0123456", SourceDigest: "sha256:" + strings.Repeat("ab", 32),
			BuilderImage: "dnsmon-headers:test", Recipe: "sha256:" + strings.Repeat("cd", 32), Created: time.Unix(1700000000, 0)}
		d, err := p.PublishArtifact(ctx, meta, ko(m))
		if err != nil {
			t.Fatalf("publishing %s/%s: %v", m.version, m.release, err)
		}
		out[m.version+"/"+m.release] = d.Digest
	}
	return out
}

// rewriteIndex replaces version's index in the registry repository repo
// with one whose module entries edit changed.
func rewriteIndex(t *testing.T, repo, version string, edit func(*v1.Descriptor)) {
	t.Helper()
	ref, err := name.ParseReference(repo + ":" + version)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := crane.Manifest(ref.String())
	if err != nil {
		t.Fatal(err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		t.Fatal(err)
	}
	for i := range im.Manifests {
		edit(&im.Manifests[i])
	}
	b, err := json.Marshal(im)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(ref, rawManifest(b)); err != nil {
		t.Fatal(err)
	}
}

// resignedRepo publishes the first two modules of 0.1.0 and one of 0.2.0,
// signed with key, lets edit rewrite the repository, and then has key sign
// a version index that names 0.1.0's index as edit left it: Reindex
// rebuilds 0.2.0's index from its module tags and takes 0.1.0's as it
// finds it, as a publisher that wrote it would sign it.
func resignedRepo(t *testing.T, key *ecdsa.PrivateKey, edit func(t *testing.T, repo string, d map[string]v1.Hash)) string {
	t.Helper()
	addr, _ := startRegistry(t)
	repo := addr + "/resigned"
	d := publishAll(t, repo, key, []mod{mods[0], mods[1], mods[5]})
	edit(t, repo, d)
	reindex(t, repo, key, publish.ReindexOptions{Versions: []string{"0.2.0"}})
	return repo
}

// reindex runs Reindex on repo with key.
func reindex(t *testing.T, repo string, key *ecdsa.PrivateKey, o publish.ReindexOptions) {
	t.Helper()
	p, err := publish.New(context.Background(), repo, publish.WithSigningKey(key), publish.WithRetryBackoff(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Reindex(context.Background(), o); err != nil {
		t.Fatalf("Reindex: %v", err)
	}
}

// manifestSize is the size of the manifest d in repo.
func manifestSize(t *testing.T, repo string, d v1.Hash) int64 {
	t.Helper()
	raw, err := crane.Manifest(repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(raw))
}

// rawManifest is a manifest to put as it is.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error) { return m, nil }

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := signature.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tamperer serves a registry and corrupts the blobs it is told to.
type tamperer struct {
	h       http.Handler
	mu      sync.Mutex
	corrupt map[string]bool
}

func (tp *tamperer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tp.mu.Lock()
	bad := false
	for d := range tp.corrupt {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+d) {
			bad = true
		}
	}
	tp.mu.Unlock()
	if !bad {
		tp.h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	tp.h.ServeHTTP(rec, r)
	b := rec.Body.Bytes()
	if len(b) > 100 {
		b[100] ^= 0xff
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(b)
}

func startRegistry(t *testing.T) (addr string, tp *tamperer) {
	t.Helper()
	tp = &tamperer{h: registry.New(registry.Logger(log.New(io.Discard, "", 0))), corrupt: map[string]bool{}}
	s := httptest.NewServer(tp)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), tp
}

func layerOf(t *testing.T, src string, manifest v1.Hash) v1.Hash {
	t.Helper()
	s, err := store.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := store.ReadManifest(context.Background(), s, manifest.String())
	if err != nil {
		t.Fatal(err)
	}
	mf, _, err := artifact.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return mf.Layers[0].Digest
}

func pubPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	b, err := signature.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dnsmon.pub")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var debianHost = fetcher.Host{Release: "6.1.0-56-amd64", Arch: "amd64", Distro: "debian", DistroVersion: "12"}

// writeBundle makes a bundle of src.
func writeBundle(t *testing.T, src string, opts publish.BundleOptions) string {
	t.Helper()
	s, err := store.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	file := filepath.Join(t.TempDir(), "modules.tar.zst")
	if _, err := publish.WriteBundleFile(context.Background(), s, file, opts); err != nil {
		t.Fatalf("writing bundle: %v", err)
	}
	return file
}

type tarEntry struct {
	name, link string
	typ        byte
	body       string
}

// craftBundle writes a zstd tar with the given entries.
func craftBundle(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	zw.Close()
	file := filepath.Join(t.TempDir(), "crafted.tar.zst")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestFetch(t *testing.T) {
	key := newKey(t)
	otherKey := newKey(t)

	// One signed registry, layout and bundle shared by the read-only cases.
	regAddr, _ := startRegistry(t)
	regRepo := regAddr + "/dnsmon/modules"
	digests := publishAll(t, regRepo, key, mods)
	layoutDir := filepath.Join(t.TempDir(), "layout")
	publishAll(t, store.LayoutPrefix+layoutDir, key, mods)
	bundle := writeBundle(t, store.LayoutPrefix+layoutDir, publish.BundleOptions{})

	type tc struct {
		// setup returns the source and may change the options.
		setup   func(t *testing.T) string
		opts    []fetcher.Option
		noKey   bool
		wantErr string // substring; "" means success
		wantAs  any    // pointer to an error type errors.As must find
		wantIs  error
		check   func(t *testing.T, rec *fetcher.Record, ko []byte)
	}
	shared := func(src string) func(*testing.T) string { return func(*testing.T) string { return src } }
	cases := map[string]tc{
		"registry newest version": {setup: shared(regRepo), check: func(t *testing.T, rec *fetcher.Record, b []byte) {
			if rec.Version != "0.2.0" || !rec.Verified || rec.Signer != signature.Fingerprint(&key.PublicKey) {
				t.Errorf("record %+v: want version 0.2.0 verified by our key", rec)
			}
			if !bytes.Equal(b, ko(mod{"0.2.0", "6.1.0-56-amd64", "", ""})) {
				t.Error("written module differs from the published one")
			}
		}},
		"registry pinned version": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithVersion("0.1.0")},
			check: func(t *testing.T, rec *fetcher.Record, _ []byte) {
				if rec.Version != "0.1.0" || rec.Manifest != digests["0.1.0/6.1.0-56-amd64"].String() {
					t.Errorf("record %+v: want 0.1.0 %s", rec, digests["0.1.0/6.1.0-56-amd64"])
				}
			}},
		"registry release with plus": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithRelease("6.12.117+deb12-amd64")}},
		"layout":                     {setup: shared(store.LayoutPrefix + layoutDir)},
		"bundle":                     {setup: shared(bundle)},
		"insecure skip verify":       {setup: shared(bundle), noKey: true, opts: []fetcher.Option{fetcher.WithInsecureSkipVerify()}},
		"no key":                     {setup: shared(bundle), noKey: true, wantIs: fetcher.ErrNoKey},
		"no module for release": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithRelease("6.1.0-58-amd64"), fetcher.WithVersion("0.1.0")},
			wantAs:  new(*fetcher.NoModuleError),
			wantErr: "no dnsmon 0.1.0 module for kernel 6.1.0-58-amd64 (amd64) in " + regRepo + "; nearest available for debian-12: 6.1.0-57-amd64, 6.1.0-56-amd64, 6.1.0-56-cloud-amd64, 6.12.117+deb12-amd64; to have it built, add this line to the kernels: list of the debian-12 group in kernels.yaml:\n      - 6.1.0-58-amd64"},
		"unknown version": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithVersion("9.9.9")}, wantIs: store.ErrNotFound,
			wantErr: "dnsmon module version 9.9.9 is not in"},
		"wrong key": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithPublicKey(&otherKey.PublicKey)}, noKey: true,
			wantIs: signature.ErrNoSignature, wantErr: "ECDSA signature does not verify with the key"},
		// A key rotation: the host trusts the new key and the old one.
		"old and new key, signed by the old": {setup: shared(regRepo), noKey: true,
			opts: []fetcher.Option{fetcher.WithPublicKey(&otherKey.PublicKey), fetcher.WithPublicKey(&key.PublicKey)},
			check: func(t *testing.T, rec *fetcher.Record, _ []byte) {
				if !rec.Verified || rec.Signer != signature.Fingerprint(&key.PublicKey) {
					t.Errorf("record %+v: want verified by %s", rec, signature.Fingerprint(&key.PublicKey))
				}
			}},
		"two keys, neither the signer's": {setup: shared(regRepo), noKey: true,
			opts:   []fetcher.Option{fetcher.WithPublicKey(&otherKey.PublicKey), fetcher.WithPublicKey(&newKey(t).PublicKey)},
			wantIs: signature.ErrNoSignature, wantErr: "by any of the keys"},
		"missing signature": {setup: func(t *testing.T) string {
			addr, _ := startRegistry(t)
			publishAll(t, addr+"/unsigned", nil, mods[:1])
			return addr + "/unsigned"
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0")}, wantIs: fetcher.ErrIndexUnsigned, wantErr: "has no signature tag sha256-"},
		"vermagic mismatch": {setup: shared(regRepo), opts: []fetcher.Option{fetcher.WithRelease("6.1.0-99-amd64")},
			wantAs: new(*fetcher.VermagicError), wantErr: `is for kernel "6.1.0-98-amd64", not "6.1.0-99-amd64"`},
		"tampered blob in registry": {setup: func(t *testing.T) string {
			addr, tp := startRegistry(t)
			d := publishAll(t, addr+"/tampered", key, mods[:1])
			tp.corrupt[layerOf(t, addr+"/tampered", d["0.1.0/6.1.0-56-amd64"]).String()] = true
			return addr + "/tampered"
		}, wantAs: new(*store.DigestError), wantErr: "refusing corrupt or tampered content"},
		"tampered blob in layout": {setup: func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "layout")
			d := publishAll(t, store.LayoutPrefix+dir, key, mods[:1])
			l := layerOf(t, store.LayoutPrefix+dir, d["0.1.0/6.1.0-56-amd64"])
			p := filepath.Join(dir, "blobs", "sha256", l.Hex)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
			return store.LayoutPrefix + dir
		}, wantAs: new(*store.DigestError), wantErr: "hashes to sha256:"},
		"truncated bundle": {setup: func(t *testing.T) string {
			b, _ := os.ReadFile(bundle)
			p := filepath.Join(t.TempDir(), "cut.tar.zst")
			os.WriteFile(p, b[:len(b)/2], 0o644)
			return p
		}, wantAs: new(*store.BundleError), wantErr: "truncated or corrupt"},
		"bundle with dot-dot entry": {setup: func(t *testing.T) string {
			return craftBundle(t, []tarEntry{{name: "oci-layout", typ: tar.TypeReg, body: `{"imageLayoutVersion":"1.0.0"}`},
				{name: "blobs/../../evil", typ: tar.TypeReg, body: "x"}})
		}, wantAs: new(*store.BundleError), wantErr: `entry "blobs/../../evil": path contains ".."`},
		"bundle with absolute entry": {setup: func(t *testing.T) string {
			return craftBundle(t, []tarEntry{{name: "/tmp/evil", typ: tar.TypeReg, body: "x"}})
		}, wantAs: new(*store.BundleError), wantErr: "absolute path"},
		"bundle with symlink": {setup: func(t *testing.T) string {
			return craftBundle(t, []tarEntry{{name: "index.json", typ: tar.TypeSymlink, link: "/etc/passwd"}})
		}, wantAs: new(*store.BundleError), wantErr: `is a link to "/etc/passwd"`},
		"bundle with hardlink": {setup: func(t *testing.T) string {
			return craftBundle(t, []tarEntry{{name: "blobs/sha256/" + strings.Repeat("0", 64), typ: tar.TypeLink, link: "../../../etc/passwd"}})
		}, wantAs: new(*store.BundleError), wantErr: "bundles may not hold links"},
		"not a bundle": {setup: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.tar.zst")
			os.WriteFile(p, []byte("hello"), 0o644)
			return p
		}, wantAs: new(*store.BundleError)},
		"registry down": {setup: func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			return addr + "/dnsmon/modules"
		}, wantErr: "reaching registry 127.0.0.1:"},
		"url source": {setup: shared("https://example.com/x"), wantErr: "is a URL"},
		// A rewritten version tag changes nothing: hosts read each
		// version's index by the digest the signed version index names.
		"version tag rewritten to point at another kernel's module": {setup: func(t *testing.T) string {
			addr, _ := startRegistry(t)
			repo := addr + "/swapped"
			d := publishAll(t, repo, key, mods[:2])
			rewriteIndex(t, repo, "0.1.0", func(m *v1.Descriptor) {
				if m.Annotations[artifact.AnnotationRelease] == "6.1.0-56-amd64" {
					m.Digest = d["0.1.0/6.1.0-57-amd64"]
				}
			})
			return repo
		}, check: func(t *testing.T, rec *fetcher.Record, _ []byte) {
			if rec.Kernel != "6.1.0-56-amd64" {
				t.Errorf("fetched the module for %s through a rewritten version tag", rec.Kernel)
			}
		}},
		// The checks below stand behind the signed version index: what
		// they refuse is signed, as a publisher with a bug, or one whose
		// index job was subverted, would sign it.
		"index entry points at another kernel's manifest": {setup: func(t *testing.T) string {
			repo := resignedRepo(t, key, func(t *testing.T, repo string, d map[string]v1.Hash) {
				rewriteIndex(t, repo, "0.1.0", func(m *v1.Descriptor) {
					if m.Annotations[artifact.AnnotationRelease] == "6.1.0-56-amd64" {
						m.Digest, m.Size = d["0.1.0/6.1.0-57-amd64"], manifestSize(t, repo, d["0.1.0/6.1.0-57-amd64"])
					}
				})
			})
			return repo
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0")},
			wantErr: "is dnsmon 0.1.0 for 6.1.0-57-amd64/amd64, but the index lists it for 0.1.0 6.1.0-56-amd64/amd64: refusing a mislabelled module"},
		"index entry relabelled for another arch": {setup: func(t *testing.T) string {
			repo := resignedRepo(t, key, func(t *testing.T, repo string, _ map[string]v1.Hash) {
				rewriteIndex(t, repo, "0.1.0", func(m *v1.Descriptor) {
					if m.Annotations[artifact.AnnotationRelease] == "6.1.0-56-amd64" {
						m.Annotations[artifact.AnnotationArch] = "arm64"
					}
				})
			})
			return repo
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0"), fetcher.WithArch("arm64")},
			wantErr: "is dnsmon 0.1.0 for 6.1.0-56-amd64/amd64, but the index lists it for 0.1.0 6.1.0-56-amd64/arm64: refusing a mislabelled module"},
		"index entry points at another version's module": {setup: func(t *testing.T) string {
			repo := resignedRepo(t, key, func(t *testing.T, repo string, d map[string]v1.Hash) {
				rewriteIndex(t, repo, "0.1.0", func(m *v1.Descriptor) {
					if m.Annotations[artifact.AnnotationRelease] == "6.1.0-56-amd64" {
						m.Digest, m.Size = d["0.2.0/6.1.0-56-amd64"], manifestSize(t, repo, d["0.2.0/6.1.0-56-amd64"])
					}
				})
			})
			return repo
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0")},
			wantErr: "is dnsmon 0.2.0 for 6.1.0-56-amd64/amd64, but the index lists it for 0.1.0 6.1.0-56-amd64/amd64: refusing a mislabelled module"},
		"version index names another version's index": {setup: func(t *testing.T) string {
			repo := resignedRepo(t, key, func(t *testing.T, repo string, _ map[string]v1.Hash) {
				raw, err := crane.Manifest(repo + ":0.2.0")
				if err != nil {
					t.Fatal(err)
				}
				ref, err := name.ParseReference(repo + ":0.1.0")
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Put(ref, rawManifest(raw)); err != nil {
					t.Fatal(err)
				}
			})
			return repo
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0")}, wantErr: `is the index of version "0.2.0", not "0.1.0"`},
		"index entry claims a manifest over the cap": {setup: func(t *testing.T) string {
			repo := resignedRepo(t, key, func(t *testing.T, repo string, _ map[string]v1.Hash) {
				rewriteIndex(t, repo, "0.1.0", func(m *v1.Descriptor) {
					if m.Annotations[artifact.AnnotationRelease] == "6.1.0-56-amd64" {
						m.Size = artifact.MaxManifestSize + 1
					}
				})
			})
			return repo
		}, opts: []fetcher.Option{fetcher.WithVersion("0.1.0")}, wantErr: fmt.Sprintf("is %d bytes, more than %d", artifact.MaxManifestSize+1, artifact.MaxManifestSize)},
		"unsigned module under a signed version index": {setup: func(t *testing.T) string {
			addr, _ := startRegistry(t)
			repo := addr + "/unsigned-module"
			publishAll(t, repo, nil, mods[:1])
			reindex(t, repo, key, publish.ReindexOptions{IncludeUnsigned: true})
			return repo
		}, wantIs: fetcher.ErrUnsigned, wantErr: "module is not signed: sha256:"},
		"module signed by another key than the version index": {setup: func(t *testing.T) string {
			addr, _ := startRegistry(t)
			repo := addr + "/stranger-module"
			publishAll(t, repo, otherKey, mods[:1])
			reindex(t, repo, key, publish.ReindexOptions{})
			return repo
		}, wantIs: signature.ErrNoSignature, wantErr: "verifying signature of sha256:"},
		"module of another name": {setup: func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "layout")
			p, err := publish.New(context.Background(), store.LayoutPrefix+dir, publish.WithSigningKey(key))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			m := mods[0]
			meta := artifact.Meta{Version: m.version, Release: m.release, Arch: "amd64", Distro: m.distro,
				Vermagic: kmodtest.Vermagic(m.release), Created: time.Unix(1700000000, 0)}
			if _, err := p.PublishArtifact(context.Background(), meta, kmodtest.KO(kmodtest.Module{Name: "evil", Release: m.release})); err != nil {
				t.Fatal(err)
			}
			return store.LayoutPrefix + dir
		}, wantErr: `module is "evil", not "dnsmon"`},
		"manifest vermagic other than the module's": {setup: func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "layout")
			p, err := publish.New(context.Background(), store.LayoutPrefix+dir, publish.WithSigningKey(key))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			m := mods[0]
			meta := artifact.Meta{Version: m.version, Release: m.release, Arch: "amd64", Distro: m.distro,
				Vermagic: m.release + " SMP mod_unload ", Created: time.Unix(1700000000, 0)}
			if _, err := p.PublishArtifact(context.Background(), meta, ko(m)); err != nil {
				t.Fatal(err)
			}
			return store.LayoutPrefix + dir
		}, wantErr: `module vermagic "6.1.0-56-amd64 SMP preempt mod_unload modversions " differs from the manifest's "6.1.0-56-amd64 SMP mod_unload ": refusing a mislabelled module`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			src := c.setup(t)
			out := filepath.Join(t.TempDir(), "out", "dnsmon.ko")
			opts := []fetcher.Option{fetcher.WithSource(src), fetcher.WithHost(debianHost), fetcher.WithOutput(out),
				fetcher.WithRetryBackoff(fastRetry)}
			if !c.noKey {
				opts = append(opts, fetcher.WithPublicKey(&key.PublicKey))
			}
			rec, err := fetcher.Fetch(context.Background(), append(opts, c.opts...)...)
			if c.wantErr == "" && c.wantAs == nil && c.wantIs == nil {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				var disk fetcher.Record
				rb, err := os.ReadFile(out + ".json")
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(rb, &disk); err != nil || disk.Manifest != rec.Manifest || disk.Kernel == "" {
					t.Errorf("record on disk %s: %v", rb, err)
				}
				if artifact.Digest(b).String() != rec.KoDigest {
					t.Errorf("module digest %s, record says %s", artifact.Digest(b), rec.KoDigest)
				}
				if c.check != nil {
					c.check(t, rec, b)
				}
				return
			}
			if err == nil {
				t.Fatalf("Fetch succeeded, want error %q", c.wantErr)
			}
			t.Logf("refused: %v", err)
			if c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %q\nwant it to contain %q", err, c.wantErr)
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("error %q is not %v", err, c.wantIs)
			}
			if c.wantAs != nil && !errors.As(err, c.wantAs) {
				t.Errorf("error %q (%T) is not a %T", err, err, c.wantAs)
			}
			if _, serr := os.Stat(filepath.Dir(out)); !os.IsNotExist(serr) {
				t.Errorf("output directory exists after a refused fetch: %v", serr)
			}
			if _, serr := os.Stat(filepath.Join(os.TempDir(), "evil")); serr == nil {
				t.Errorf("a bundle entry escaped to %s", filepath.Join(os.TempDir(), "evil"))
			}
		})
	}
}

// TestBundleOnly checks --only and that a bundle holds signatures.
func TestBundleOnly(t *testing.T) {
	key := newKey(t)
	dir := filepath.Join(t.TempDir(), "layout")
	publishAll(t, store.LayoutPrefix+dir, key, mods)
	file := writeBundle(t, store.LayoutPrefix+dir, publish.BundleOptions{Only: regexp.MustCompile(`^6\.12\.`), SigningKey: key})
	ctx := context.Background()
	for name, c := range map[string]struct {
		release string
		wantErr bool
	}{
		"kept":    {"6.12.117+deb12-amd64", false},
		"dropped": {"6.1.0-56-amd64", true},
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "dnsmon.ko")
			_, err := fetcher.Fetch(ctx, fetcher.WithSource(file), fetcher.WithRelease(c.release), fetcher.WithArch("amd64"),
				fetcher.WithHost(debianHost), fetcher.WithPublicKey(&key.PublicKey), fetcher.WithOutput(out))
			if (err != nil) != c.wantErr {
				t.Fatalf("Fetch %s: %v, want error %v", c.release, err, c.wantErr)
			}
		})
	}
}

// TestBundleWritesNoTempFiles fetches from a bundle that dnsmon-farm
// bundle wrote and checks that nothing was extracted to $TMPDIR.
func TestBundleWritesNoTempFiles(t *testing.T) {
	key := newKey(t)
	dir := filepath.Join(t.TempDir(), "layout")
	publishAll(t, store.LayoutPrefix+dir, key, mods[:1])
	file := writeBundle(t, store.LayoutPrefix+dir, publish.BundleOptions{})
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := filepath.Join(t.TempDir(), "dnsmon.ko")
	rec, err := fetcher.Fetch(context.Background(), fetcher.WithSource(file), fetcher.WithHost(debianHost),
		fetcher.WithPublicKey(&key.PublicKey), fetcher.WithOutput(out))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !rec.Verified {
		t.Errorf("record %+v: want verified", rec)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("fetching from a bundle left %v in $TMPDIR", left)
	}
}

// TestDockerRegistry proves publish, list and fetch against the real
// registry server (Debian's docker-registry).
func TestDockerRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts docker-registry")
	}
	addr := kmodtest.StartDockerRegistry(t)
	repo := addr + "/dnsmon/modules"
	key := newKey(t)
	publishAll(t, repo, key, mods)
	ctx := context.Background()
	src, err := store.Open(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := src.Tags(ctx)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.1.0", "0.2.0", "0.1.0__6.12.117_pdeb12-amd64__amd64"} {
		found := false
		for _, tg := range tags {
			found = found || tg == want
		}
		if !found {
			t.Errorf("tag %q missing from %v", want, tags)
		}
	}
	for name, c := range map[string]struct {
		release string
		key     *ecdsa.PrivateKey
		wantErr string
	}{
		"fetch":     {"6.12.117+deb12-amd64", key, ""},
		"wrong key": {"6.1.0-56-amd64", newKey(t), "no valid signature"},
		"missing":   {"6.1.0-1-amd64", key, "nearest available"},
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out", "dnsmon.ko")
			_, err := fetcher.Fetch(ctx, fetcher.WithSource(repo), fetcher.WithRelease(c.release), fetcher.WithHost(debianHost),
				fetcher.WithPublicKey(&c.key.PublicKey), fetcher.WithOutput(out))
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if _, serr := os.Stat(filepath.Dir(out)); !os.IsNotExist(serr) {
				t.Errorf("output directory exists after a refused fetch")
			}
		})
	}
	// Plain crane (go-containerregistry's CLI library) lists and pulls them.
	ctags, err := crane.ListTags(repo)
	if err != nil || len(ctags) != len(tags) {
		t.Errorf("crane ls: %v %v", ctags, err)
	}
	var idx v1.IndexManifest
	if raw, err := crane.Manifest(repo + ":0.1.0"); err != nil || json.Unmarshal(raw, &idx) != nil || len(idx.Manifests) != 5 {
		t.Errorf("crane manifest %s:0.1.0: %d entries, %v", repo, len(idx.Manifests), err)
	} else if raw, err := crane.Manifest(repo + "@" + idx.Manifests[0].Digest.String()); err != nil {
		t.Errorf("crane manifest: %v", err)
	} else if mf, _, err := artifact.ParseManifest(raw); err != nil {
		t.Error(err)
	} else if l, err := crane.PullLayer(repo + "@" + mf.Layers[0].Digest.String()); err != nil {
		t.Errorf("crane blob: %v", err)
	} else if rc, err := l.Compressed(); err != nil {
		t.Errorf("crane blob: %v", err)
	} else {
		b, _ := io.ReadAll(rc)
		rc.Close()
		if int64(len(b)) != mf.Layers[0].Size {
			t.Errorf("crane blob: %d bytes, want %d", len(b), mf.Layers[0].Size)
		}
	}
	// A bundle made from the real registry verifies like the registry.
	file := writeBundle(t, repo, publish.BundleOptions{Versions: []string{"0.1.0"}, SigningKey: key})
	out := filepath.Join(t.TempDir(), "dnsmon.ko")
	if _, err := fetcher.Fetch(ctx, fetcher.WithSource(file), fetcher.WithHost(debianHost), fetcher.WithPublicKey(&key.PublicKey), fetcher.WithOutput(out)); err != nil {
		t.Fatalf("fetch from bundle of docker-registry: %v", err)
	}
}
