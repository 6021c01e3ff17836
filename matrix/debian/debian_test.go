package debian

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.0-0", 0},
		{"1.0-1", "1.0-2", -1},
		{"6.1.176-1", "6.1.170-1", 1},
		{"6.1.99-1", "6.1.100-1", -1},
		{"7.3~rc7-1~exp1", "7.3-1", -1},
		{"7.3~rc7-1~exp1", "7.3~rc6-1~exp1", 1},
		{"1.0~", "1.0", -1},
		{"1.0~~", "1.0~", -1},
		{"1:1.0", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{"1.0a", "1.0", 1},
		{"1.0a", "1.0+", -1},
		{"1.0+b1", "1.0", 1},
		{"6.12.117-1~deb12u1", "6.12.115-1~deb12u1", 1},
		{"6.12.117-1~deb12u1", "6.12.117-1", -1},
		{"2.01", "2.1", 0},
		{"1.2.3-1ubuntu1", "1.2.3-1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := CompareVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := CompareVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestParsePackages(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    int
		wantErr bool
	}{
		"two stanzas":       {in: "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n", want: 2},
		"continuation":      {in: "Package: a\nDescription: x\n more\n .\n", want: 1},
		"extra blank lines": {in: "\n\nPackage: a\n\n\n", want: 1},
		"empty":             {in: "", want: 0},
		"no package field":  {in: "Version: 1\n", wantErr: true},
		"leading continue":  {in: " x\n", wantErr: true},
		"bad size":          {in: "Package: a\nSize: -3\n", wantErr: true},
		"no colon":          {in: "Package a\n", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePackages(strings.NewReader(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %d packages, %v; want %d", len(got), err, tt.want)
			}
		})
	}
}

func TestParsePackagesFunc(t *testing.T) {
	in := "Package: gcc-12\nVersion: 1\nDescription: x\n more\n\n" +
		"Package: linux-image-6.1.0-50-amd64\nVersion: 2\n\n" +
		"Version: 3\nPackage: libc6\n\n" + // Package not first: parsed, then filtered
		"Package: linux-kbuild-6.1\nVersion: 4\n"
	tests := map[string]struct {
		keep func(string) bool
		want []string
	}{
		"nil keeps all": {nil, []string{"gcc-12", "linux-image-6.1.0-50-amd64", "libc6", "linux-kbuild-6.1"}},
		"kernel only":   {isKernelPackage, []string{"linux-image-6.1.0-50-amd64", "linux-kbuild-6.1"}},
		"none":          {func(string) bool { return false }, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePackagesFunc(strings.NewReader(in), tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			if strings.Join(names, " ") != strings.Join(tt.want, " ") {
				t.Errorf("kept %q, want %q", names, tt.want)
			}
			for _, p := range got {
				if p.Name == "linux-kbuild-6.1" && p.Version != "4" {
					t.Errorf("linux-kbuild-6.1 version %q after skipped stanzas, want 4", p.Version)
				}
			}
		})
	}
}

func TestFilterPackages(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"package first": {"Package: gcc-12\nVersion: 1\n\nPackage: linux-image-6.1.0-50-amd64\nVersion: 2\nDescription: x\n more\n", []string{"linux-image-6.1.0-50-amd64"}},
		"package last":  {"Version: 3\nPackage: linux-kbuild-6.1\n\nVersion: 4\nPackage: libc6\n", []string{"linux-kbuild-6.1"}},
		"blank runs":    {"\n\nPackage: linux-base\nVersion: 5\n\n\n\nPackage: bash\nVersion: 6\n\n", []string{"linux-base"}},
		"none kept":     {"Package: bash\nVersion: 6\n", nil},
		"empty":         {"", nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := FilterPackages(strings.NewReader(tt.in), &buf, isKernelPackage); err != nil {
				t.Fatal(err)
			}
			got, err := ParsePackages(&buf)
			if err != nil {
				t.Fatalf("parsing the filtered index: %v\n%s", err, buf.String())
			}
			direct, err := ParsePackagesFunc(strings.NewReader(tt.in), isKernelPackage)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, p := range got {
				names = append(names, p.Name)
				if i < len(direct) && (p.Version != direct[i].Version || p.Description != direct[i].Description) {
					t.Errorf("%s: filtered %+v, direct %+v", p.Name, p, direct[i])
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.want, " ") || len(direct) != len(got) {
				t.Errorf("kept %q (direct parse kept %d), want %q", names, len(direct), tt.want)
			}
		})
	}
}

// TestReadIndexFileKeepsKernelStanzas checks the PATH.linux copy: made on
// first read with the index's mtime, used while that matches, remade when
// the index changes, and bypassed when damaged.
func TestReadIndexFileKeepsKernelStanzas(t *testing.T) {
	dir := t.TempDir()
	index := filepath.Join(dir, "Packages")
	write := func(version string, mtime time.Time) {
		t.Helper()
		body := "Package: bash\nVersion: 1\n\nPackage: linux-image-6.1.0-50-amd64\nVersion: " + version + "\n"
		if err := os.WriteFile(index, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(index, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	read := func(want string) {
		t.Helper()
		pkgs, err := readIndexFile(index, "Packages")
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) != 1 || pkgs[0].Version != want {
			t.Fatalf("read %+v, want one linux-image at version %s", pkgs, want)
		}
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write("1", t0)
	read("1")
	fi, err := os.Stat(index + ".linux")
	if err != nil {
		t.Fatalf("no kernel stanza copy: %v", err)
	}
	if !fi.ModTime().Equal(t0) {
		t.Errorf("copy stamped %v, want the index's %v", fi.ModTime(), t0)
	}
	b, _ := os.ReadFile(index + ".linux")
	if strings.Contains(string(b), "bash") {
		t.Errorf("copy holds a non-kernel stanza:\n%s", b)
	}

	// A copy that matches the index's mtime is what is read.
	if err := os.WriteFile(index+".linux", []byte("Package: linux-image-6.1.0-50-amd64\nVersion: from-copy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(index+".linux", t0, t0)
	read("from-copy")

	// A refreshed index is read, and the copy remade.
	write("2", t0.Add(time.Hour))
	read("2")
	read("2")

	// A damaged copy falls back to the index.
	if err := os.WriteFile(index+".linux", []byte("no field here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(index+".linux", t0.Add(time.Hour), t0.Add(time.Hour))
	read("2")
}

func TestDependsNames(t *testing.T) {
	got := DependsNames("linux-base (>= 4.12~), linux-headers-6.12.117+deb12-common (= 6.12.117-1~deb12u1), linux-image-x (= 1) | linux-image-x-unsigned (= 1), gcc-12:amd64, foo [amd64]")
	want := []string{"linux-base", "linux-headers-6.12.117+deb12-common", "linux-image-x", "gcc-12", "foo"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("DependsNames = %q, want %q", got, want)
	}
}

// mirrorConf shapes what fixtureServer serves.
type mirrorConf struct {
	signer  *debiantest.Signer // signs InRelease; nil: the fixture key
	header  []string           // extra Release fields
	noSig   bool               // no InRelease at all
	tamper  *atomic.Bool       // when set, index files are served with a byte changed
	byHash  bool               // Acquire-By-Hash: yes, and serve by-hash paths
	byHashN *atomic.Int32      // counts by-hash requests
}

// fixtureKey signs the fixture mirrors' suites; the clients of these tests
// trust it through testClient.
var fixtureKey = sync.OnceValue(func() *debiantest.Signer {
	s, err := debiantest.NewSigner()
	if err != nil {
		panic(err)
	}
	return s
})

// testClient is a client that trusts the fixture key.
func testClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(append([]Option{WithCacheDir(t.TempDir()), WithKeyring(fixtureKey().Keyring())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixtureServer serves testdata as a mirror: dists/SUITE/main/binary-amd64/
// maps to testdata/SUITE/, and pool/ to testdata/deb/; dists/SUITE/InRelease
// lists testdata/SUITE/'s files, signed by the fixture key.
func fixtureServer(t *testing.T, hits *atomic.Int32, confs ...mirrorConf) *httptest.Server {
	t.Helper()
	var conf mirrorConf
	if len(confs) > 0 {
		conf = confs[0]
	}
	if conf.signer == nil {
		conf.signer = fixtureKey()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		p := strings.TrimPrefix(r.URL.Path, "/")
		var file string
		if rest, ok := strings.CutPrefix(p, "dists/"); ok {
			suite, tail, _ := strings.Cut(rest, "/")
			files, err := debiantest.SuiteFiles(filepath.Join("testdata", suite))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			index := map[string][]byte{}
			for name, b := range files {
				index["main/binary-amd64/"+name] = b
			}
			switch {
			case tail == "InRelease":
				if conf.noSig {
					http.NotFound(w, r)
					return
				}
				header := conf.header
				if conf.byHash {
					header = append(header, "Acquire-By-Hash: yes")
				}
				b, err := conf.signer.InRelease(index, header...)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Write(b)
				return
			case strings.Contains(tail, "/by-hash/SHA256/"):
				if !conf.byHash {
					http.NotFound(w, r)
					return
				}
				conf.byHashN.Add(1)
				want := tail[strings.LastIndex(tail, "/")+1:]
				for _, b := range index {
					if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) == want {
						w.Write(b)
						return
					}
				}
				http.NotFound(w, r)
				return
			}
			file = filepath.Join("testdata", suite, strings.TrimPrefix(tail, "main/binary-amd64/"))
			if conf.tamper != nil && conf.tamper.Load() {
				b, err := os.ReadFile(file)
				if err != nil {
					http.NotFound(w, r)
					return
				}
				b[len(b)/2] ^= 1
				w.Write(b)
				return
			}
		} else if rest, ok := strings.CutPrefix(p, "pool/"); ok {
			file = filepath.Join("testdata", "deb", filepath.Base(rest))
		}
		if file == "" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, file)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestInRelease(t *testing.T) {
	other, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	past := "Valid-Until: " + time.Now().Add(-24*time.Hour).UTC().Format(time.RFC1123)
	var byHash atomic.Int32
	tests := map[string]struct {
		conf    mirrorConf
		opts    []Option
		wantErr error  // nil: the index is read
		wantMsg string // in the error
	}{
		"signed":                {},
		"by hash":               {conf: mirrorConf{byHash: true, byHashN: &byHash}},
		"signed by another key": {conf: mirrorConf{signer: other}, wantErr: ErrUnsigned, wantMsg: "keyring/README.md"},
		"no InRelease":          {conf: mirrorConf{noSig: true}, wantMsg: "without a signed InRelease"},
		"index changed":         {conf: mirrorConf{tamper: tampered()}, wantErr: ErrIndexDigest, wantMsg: "sha256 mismatch"},
		"expired, not checked":  {conf: mirrorConf{header: []string{past}}},
		"expired, checked":      {conf: mirrorConf{header: []string{past}}, opts: []Option{WithValidUntil(true)}, wantMsg: "expired"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			srv := fixtureServer(t, &hits, tc.conf)
			c := testClient(t, tc.opts...)
			pkgs, err := c.Packages(t.Context(), Suite{Name: "experimental", BaseURL: srv.URL, Component: "main", Arch: "amd64"})
			if tc.wantErr == nil && tc.wantMsg == "" {
				if err != nil || len(pkgs) == 0 {
					t.Fatalf("Packages = %d packages, %v", len(pkgs), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Packages read %d packages, want an error", len(pkgs))
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want it to say %q", err, tc.wantMsg)
			}
			if entries, _ := os.ReadDir(filepath.Join(c.CacheRoot(), "index")); len(entries) > 0 {
				t.Errorf("a refused index left %d files in the cache", len(entries))
			}
		})
	}
	if byHash.Load() == 0 {
		t.Error("Acquire-By-Hash: yes, but no index was fetched by hash")
	}
}

func tampered() *atomic.Bool {
	var b atomic.Bool
	b.Store(true)
	return &b
}

// TestStaleCacheTampered: a cached index past its age is not kept in use
// when the mirror's new one fails its check; the failure is reported.
func TestStaleCacheTampered(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	var hits atomic.Int32
	var tamper atomic.Bool
	srv := fixtureServer(t, &hits, mirrorConf{tamper: &tamper})
	s := Suite{Name: "experimental", BaseURL: srv.URL, Component: "main", Arch: "amd64"}
	get := func() error {
		c, err := NewClient(WithCacheDir(dir), WithClock(clock), WithKeyring(fixtureKey().Keyring()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Packages(t.Context(), s)
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	tamper.Store(true)
	now = now.Add(24 * time.Hour)
	if err := get(); !errors.Is(err, ErrIndexDigest) {
		t.Errorf("stale cache, tampered mirror: err = %v, want ErrIndexDigest", err)
	}
}

func TestNewestKernelFixtures(t *testing.T) {
	var hits atomic.Int32
	srv := fixtureServer(t, &hits)
	tests := []struct {
		suite, flavour string
		release        string
		vmlinuzPkg     string
		vmlinuzPath    string
		headers        []string
	}{
		{"bookworm", "amd64", "6.1.0-50-amd64", "linux-image-6.1.0-50-amd64", "boot/vmlinuz-6.1.0-50-amd64",
			[]string{"linux-headers-6.1.0-50-amd64", "linux-headers-6.1.0-50-common", "linux-kbuild-6.1"}},
		{"bookworm", "rt", "6.1.0-50-rt-amd64", "linux-image-6.1.0-50-rt-amd64", "boot/vmlinuz-6.1.0-50-rt-amd64",
			[]string{"linux-headers-6.1.0-50-rt-amd64", "linux-headers-6.1.0-50-common-rt", "linux-kbuild-6.1"}},
		{"bookworm-security", "amd64", "6.12.117+deb12-amd64", "linux-image-6.12.117+deb12-amd64", "boot/vmlinuz-6.12.117+deb12-amd64",
			[]string{"linux-headers-6.12.117+deb12-amd64", "linux-headers-6.12.117+deb12-common", "linux-kbuild-6.12.117+deb12"}},
		{"experimental", "amd64", "7.3-amd64", "linux-binary-7.3-amd64", "usr/lib/modules/7.3-amd64/vmlinuz",
			[]string{"linux-headers-7.3-amd64", "linux-headers-7.3-common", "linux-kbuild-7.3"}},
	}
	c := testClient(t)
	for _, tt := range tests {
		t.Run(tt.suite+"/"+tt.flavour, func(t *testing.T) {
			s := Suite{Name: tt.suite, BaseURL: srv.URL, Component: "main", Arch: "amd64"}
			k, err := c.NewestKernel(t.Context(), s, tt.flavour)
			if err != nil {
				t.Fatal(err)
			}
			if k.Release != tt.release || k.Vmlinuz.Name != tt.vmlinuzPkg || k.VmlinuzPath != tt.vmlinuzPath {
				t.Errorf("got %s in %s:%s, want %s in %s:%s", k.Release, k.Vmlinuz.Name, k.VmlinuzPath, tt.release, tt.vmlinuzPkg, tt.vmlinuzPath)
			}
			var names []string
			for _, h := range k.Headers {
				names = append(names, h.Name)
				if h.SHA256 == "" || h.Size == 0 || h.Filename == "" || h.BaseURL != srv.URL {
					t.Errorf("header package %s lacks download data: %+v", h.Name, h)
				}
			}
			if strings.Join(names, " ") != strings.Join(tt.headers, " ") {
				t.Errorf("headers %q, want %q", names, tt.headers)
			}
		})
	}
	if _, err := c.NewestKernel(t.Context(), Suite{Name: "bookworm", BaseURL: srv.URL, Component: "main", Arch: "amd64"}, "cloud"); !errors.Is(err, ErrNoKernel) {
		t.Errorf("cloud flavour: err = %v, want ErrNoKernel", err)
	}
}

func TestIndexCache(t *testing.T) {
	var hits atomic.Int32
	srv := fixtureServer(t, &hits)
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	s := Suite{Name: "experimental", BaseURL: srv.URL, Component: "main", Arch: "amd64"}
	get := func() {
		t.Helper()
		c, err := NewClient(WithCacheDir(dir), WithClock(clock), WithMaxAge(time.Hour), WithKeyring(fixtureKey().Keyring()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Packages(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	get()
	first := hits.Load()
	get()
	if hits.Load() != first {
		t.Errorf("fresh cached index was fetched again")
	}
	now = now.Add(2 * time.Hour)
	get()
	if hits.Load() == first {
		t.Errorf("stale index was not refreshed")
	}
	// Offline with a stale cache: still works.
	srv.Close()
	now = now.Add(2 * time.Hour)
	get()
}

func TestDownload(t *testing.T) {
	var hits atomic.Int32
	srv := fixtureServer(t, &hits)
	body, err := os.ReadFile("testdata/deb/fixture-xz.deb")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	good := Package{Name: "fixture", Filename: "pool/main/f/fixture-xz.deb", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), BaseURL: srv.URL}
	c := testClient(t)
	p, err := c.Download(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, body) {
		t.Fatal("downloaded file differs")
	}
	n := hits.Load()
	if _, err := c.Download(t.Context(), good); err != nil || hits.Load() != n {
		t.Errorf("cached download fetched again (err %v)", err)
	}
	tests := map[string]Package{
		"wrong hash": {Name: "x", Filename: "pool/x/fixture-zst.deb", Size: 708, SHA256: strings.Repeat("0", 64), BaseURL: srv.URL},
		"wrong size": {Name: "x", Filename: "pool/x/fixture-zst.deb", Size: 100, SHA256: strings.Repeat("0", 64), BaseURL: srv.URL},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.Download(t.Context(), p)
			var de *DigestError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want DigestError", err)
			}
			if _, err := os.Stat(filepath.Join(c.CacheRoot(), "debs", "fixture-zst.deb")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed download left a file behind")
			}
		})
	}
	if _, err := c.Download(t.Context(), Package{Name: "gone", Filename: "nothere/x.deb", Size: 1, SHA256: "00", BaseURL: srv.URL}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: err = %v, want ErrNotFound", err)
	}
}

func TestExtract(t *testing.T) {
	for _, tc := range []struct{ deb, decoder string }{
		{"testdata/deb/fixture-xz.deb", "the xz command"},
		{"testdata/deb/fixture-xz.deb", "the Go decoder"},
		{"testdata/deb/fixture-zst.deb", ""},
		{"testdata/deb/fixture-bz2.deb", ""},
	} {
		deb := tc.deb
		t.Run(filepath.Base(deb)+" "+tc.decoder, func(t *testing.T) {
			useXZDecoder(t, tc.decoder)
			var buf bytes.Buffer
			if err := ExtractFile(deb, "boot/vmlinuz-9.9.9-test", &buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != "not a kernel\n" {
				t.Errorf("content %q", buf.String())
			}
			if err := ExtractFile(deb, "boot/nothere", &buf); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("missing member: err = %v", err)
			}
			dir := t.TempDir()
			if err := ExtractAll(deb, dir); err != nil {
				t.Fatal(err)
			}
			link, err := os.Readlink(filepath.Join(dir, "usr/src/linux-headers-9.9.9-test/scripts"))
			if err != nil || link != "../../lib/linux-kbuild-9.9/scripts" {
				t.Errorf("symlink = %q, %v", link, err)
			}
		})
	}
	if err := ExtractFile("testdata/deb/fixture-lzma.deb", "boot/vmlinuz-9.9.9-test", &bytes.Buffer{}); !errors.Is(err, ErrNotDeb) || !strings.Contains(err.Error(), "data.tar.lzma: unknown compression") {
		t.Errorf("a data archive of unknown compression: err = %v", err)
	}
	if err := ExtractFile("testdata/README.md", "x", &bytes.Buffer{}); !errors.Is(err, ErrNotDeb) {
		t.Errorf("not a deb: err = %v", err)
	}
}

// useXZDecoder makes newXZReader use the xz command, which the test then
// requires, or the Go decoder, by hiding xz from PATH.
func useXZDecoder(t *testing.T, decoder string) {
	t.Helper()
	switch decoder {
	case "the xz command":
		if _, err := exec.LookPath("xz"); err != nil {
			t.Fatalf("%v (.ci/deps installs xz-utils)", err)
		}
	case "the Go decoder":
		t.Setenv("PATH", t.TempDir())
	}
}

// TestExtractCorruptXZ: a damaged data.tar.xz is an error, whichever
// decoder reads it, and nothing hangs when a walk stops early.
func TestExtractCorruptXZ(t *testing.T) {
	good, err := os.ReadFile("testdata/deb/fixture-xz.deb")
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(good, []byte("data.tar.xz"))
	if at < 0 {
		t.Fatal("fixture has no data.tar.xz member")
	}
	bad := bytes.Clone(good)
	bad[at+60+40] ^= 0xff // inside the compressed stream, past its header
	deb := filepath.Join(t.TempDir(), "bad.deb")
	if err := os.WriteFile(deb, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, decoder := range []string{"the xz command", "the Go decoder"} {
		t.Run(decoder, func(t *testing.T) {
			useXZDecoder(t, decoder)
			if err := ExtractAll(deb, t.TempDir()); err == nil {
				t.Error("ExtractAll of a corrupt data.tar.xz succeeded")
			}
			// The first entry, then stop: the decoder is stopped, not waited on.
			stopped := false
			err := WalkData("testdata/deb/fixture-xz.deb", func(*tar.Header, io.Reader) error {
				stopped = true
				return filepath.SkipAll
			})
			if err != nil || !stopped {
				t.Errorf("an early stop: err = %v, stopped %v", err, stopped)
			}
		})
	}
}

// TestLiveNewestKernel resolves the newest kernel of every reachable suite
// from the real mirrors (through the cache).
func TestLiveNewestKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the Debian mirrors")
	}
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	want := map[string]string{
		"bullseye":          `5.10.0-`,
		"bookworm":          `6.1.0-`,
		"bookworm-security": `6.12.`,
		"trixie":            `6.12.`,
		"sid":               `7.`,
		"experimental":      `7.`,
	}
	for suite, prefix := range want {
		t.Run(suite, func(t *testing.T) {
			for _, fl := range []string{"amd64", "rt-amd64", "cloud-amd64"} {
				k, err := c.NewestKernel(ctx, SuiteFor(suite), fl)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(k.Release, prefix) || !strings.HasSuffix(k.Release, "-"+fl) || len(k.Headers) < 3 {
					t.Errorf("%s %s: release %q headers %d", suite, fl, k.Release, len(k.Headers))
				}
				t.Logf("%s %s: %s (%s)", suite, fl, k.Release, k.Version)
			}
		})
	}
}

// writeDeb writes a .deb whose data.tar holds entries.
func writeDeb(t *testing.T, entries []tar.Header, bodies map[string]string) string {
	t.Helper()
	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	for _, h := range entries {
		h.Size = int64(len(bodies[h.Name]))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(bodies[h.Name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.deb")
	if err := os.WriteFile(path, debiantest.Ar(data.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExtractRefusesEscapes(t *testing.T) {
	dir := func(name string) tar.Header { return tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755} }
	reg := func(name string) tar.Header { return tar.Header{Typeflag: tar.TypeReg, Name: name} }
	link := func(name, to string) tar.Header {
		return tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: to}
	}
	for _, tc := range []struct {
		name    string
		entries []tar.Header
		wantErr bool
	}{
		{"plain tree", []tar.Header{dir("./usr/"), reg("./usr/a"), link("./usr/l", "a"), reg("./usr/src/b")}, false},
		{"file through an absolute symlink", []tar.Header{link("./usr/evil", "OUTSIDE"), reg("./usr/evil/x")}, true},
		{"dir through a relative symlink", []tar.Header{link("./usr/evil", "../.."), dir("./usr/evil/etc/")}, true},
		{"symlink over a directory", []tar.Header{dir("./usr/d/"), link("./usr/d", "OUTSIDE")}, true},
		{"file over a symlink", []tar.Header{link("./usr/f", "OUTSIDE/f"), reg("./usr/f")}, true},
		{"dotdot is cleaned below the root", []tar.Header{reg("../../x")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outside := t.TempDir()
			for i := range tc.entries {
				tc.entries[i].Linkname = strings.ReplaceAll(tc.entries[i].Linkname, "OUTSIDE", outside)
			}
			deb := writeDeb(t, tc.entries, map[string]string{})
			err := ExtractAll(deb, t.TempDir())
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("ExtractAll: err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, ErrUnsafePath) {
				t.Errorf("err = %v, want ErrUnsafePath", err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("%d entries written outside the extraction directory", len(ents))
			}
		})
	}
}

func TestMetaKernel(t *testing.T) {
	// noble-like: the metapackage moved through the pockets; the HWE line
	// and a cloud flavour have their own.
	pkgs := []Package{
		{Name: "linux-headers-generic", Version: "6.8.0-31.31", Depends: "linux-headers-6.8.0-31-generic"},
		{Name: "linux-headers-generic", Version: "6.8.0-155.165", Depends: "linux-headers-6.8.0-155-generic"},
		{Name: "linux-headers-generic", Version: "6.8.0-150.160", Depends: "linux-headers-6.8.0-150-generic"},
		{Name: "linux-headers-generic-hwe-24.04", Version: "7.0.0-44.44~24.04.1", Depends: "linux-hwe-7.0-headers-7.0.0-44 (= 7.0.0-44.44~24.04.1), linux-headers-7.0.0-44-generic"},
		{Name: "linux-image-aws", Version: "7.0.0-1021.21~24.04.1", Depends: "linux-image-7.0.0-1021-aws, linux-modules-extra-7.0.0-1021-aws"},
		{Name: "linux-headers-broken", Version: "1.0", Depends: "linux-headers-generic"},
	}
	tests := []struct {
		meta, want string
		wantErr    bool
	}{
		{meta: "linux-headers-generic", want: "6.8.0-155-generic"},
		{meta: "linux-headers-generic-hwe-24.04", want: "7.0.0-44-generic"},
		{meta: "linux-image-aws", want: "7.0.0-1021-aws"},
		{meta: "linux-headers-lowlatency", wantErr: true},
		{meta: "linux-headers-broken", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.meta, func(t *testing.T) {
			got, err := MetaKernel(pkgs, tc.meta)
			if tc.wantErr {
				if !errors.Is(err, ErrNoKernel) {
					t.Fatalf("MetaKernel = %q, %v; want ErrNoKernel", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("MetaKernel = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestUbuntuKernel(t *testing.T) {
	pkgs := []Package{
		{Name: "linux-image-6.8.0-155-generic", Version: "6.8.0-155.165"},
		{Name: "linux-image-unsigned-6.8.0-155-generic", Version: "6.8.0-155.165"},
		{Name: "linux-headers-6.8.0-155-generic", Version: "6.8.0-155.165", Depends: "linux-headers-6.8.0-155, libc6 (>= 2.38)"},
		{Name: "linux-headers-6.8.0-155", Version: "6.8.0-155.165"},
		{Name: "linux-image-7.0.0-1021-aws", Version: "7.0.0-1021.21~24.04.1"},
		{Name: "linux-headers-7.0.0-1021-aws", Version: "7.0.0-1021.21~24.04.1", Depends: "linux-aws-7.0-headers-7.0.0-1021"},
		{Name: "linux-aws-7.0-headers-7.0.0-1021", Version: "7.0.0-1021.21~24.04.1"},
	}
	tests := []struct {
		release, image string
		headers        []string
	}{
		{"6.8.0-155-generic", "linux-image-unsigned-6.8.0-155-generic", []string{"linux-headers-6.8.0-155-generic", "linux-headers-6.8.0-155"}},
		{"7.0.0-1021-aws", "linux-image-7.0.0-1021-aws", []string{"linux-headers-7.0.0-1021-aws", "linux-aws-7.0-headers-7.0.0-1021"}},
	}
	for _, tc := range tests {
		k, err := UbuntuKernel(pkgs, tc.release)
		if err != nil {
			t.Fatal(err)
		}
		var hs []string
		for _, h := range k.Headers {
			hs = append(hs, h.Name)
		}
		if k.Vmlinuz.Name != tc.image || k.VmlinuzPath != "boot/vmlinuz-"+tc.release || !slices.Equal(hs, tc.headers) {
			t.Errorf("%s: %s:%s, headers %q; want %s, headers %q", tc.release, k.Vmlinuz.Name, k.VmlinuzPath, hs, tc.image, tc.headers)
		}
	}
	if _, err := UbuntuKernel(pkgs, "6.8.0-150-generic"); !errors.Is(err, ErrNoKernel) {
		t.Errorf("a release the index lacks: %v", err)
	}
}

// TestKeyringOfArchive checks that each suite is checked against its own
// archive's keys: an Ubuntu suite is not accepted on Debian's keys, nor a
// Debian suite on Ubuntu's.
func TestKeyringOfArchive(t *testing.T) {
	c, err := NewClient(WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	deb, err := DefaultKeyring()
	if err != nil {
		t.Fatal(err)
	}
	ubu, err := UbuntuKeyring()
	if err != nil {
		t.Fatal(err)
	}
	fingerprints := func(l openpgp.EntityList) (out []string) {
		for _, e := range l {
			out = append(out, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
		}
		return out
	}
	for _, tc := range []struct {
		archive Archive
		want    openpgp.EntityList
	}{{ArchiveDebian, deb}, {ArchiveUbuntu, ubu}} {
		k, err := c.keyringOf(Suite{Name: "s", Archive: tc.archive})
		if err != nil {
			t.Fatal(err)
		}
		if got := fingerprints(k.(openpgp.EntityList)); !slices.Equal(got, fingerprints(tc.want)) {
			t.Errorf("archive %q: keys %q, want %q", tc.archive, got, fingerprints(tc.want))
		}
	}
	if slices.ContainsFunc(fingerprints(deb), func(f string) bool { return slices.Contains(fingerprints(ubu), f) }) {
		t.Error("the Debian and Ubuntu keyrings share a key")
	}
	// The Ubuntu archive's 2018 signing key, which signs every suite from
	// xenial to resolute as of 2026-12.
	if !slices.Contains(fingerprints(ubu), "F6ECB3762474EDA9D21B7022871920D1991BC93C") {
		t.Errorf("Ubuntu keyring lacks the 2018 archive key: %q", fingerprints(ubu))
	}
	if _, err := c.keyringOf(Suite{Name: "s", Archive: "gentoo"}); err == nil {
		t.Error("an unknown archive got keys")
	}
}
