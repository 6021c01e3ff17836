package roundtrip_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// noDepmod stands in for a host without kmod tools.
type noDepmod struct{}

func (noDepmod) LookPath(string) (string, error) { return "", os.ErrNotExist }
func (noDepmod) Run(context.Context, string, ...string) ([]byte, error) {
	return nil, errors.New("not reached")
}

// fakeRoot makes root/lib/modules/K/kernel for each kernel, plus a
// directory that only dnsmon left behind (not a kernel).
func fakeRoot(t *testing.T, kernels ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, k := range kernels {
		if err := os.MkdirAll(filepath.Join(root, "lib/modules", k, "kernel"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "lib/modules/6.1.0-1-amd64/updates"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFetchAndInstallKernels(t *testing.T) {
	key := newKey(t)
	layout := store.LayoutPrefix + t.TempDir()
	publishAll(t, layout, key, mods)
	root := fakeRoot(t, "6.1.0-56-amd64", "6.12.117+deb12-amd64", "6.1.0-58-amd64")
	opts := []fetcher.Option{fetcher.WithSource(layout), fetcher.WithHost(debianHost), fetcher.WithPublicKey(&key.PublicKey),
		fetcher.WithRoot(root), fetcher.WithInstallOptions(install.WithCommands(noDepmod{}))}

	if got, err := fetcher.InstalledKernels(root); err != nil || strings.Join(got, " ") != "6.1.0-56-amd64 6.1.0-58-amd64 6.12.117+deb12-amd64" {
		t.Fatalf("InstalledKernels = %q, %v", got, err)
	}
	rs, err := fetcher.FetchAndInstallKernels(t.Context(), opts...)
	var kerr *fetcher.KernelsError
	if !errors.As(err, &kerr) || strings.Join(kerr.Missing, " ") != "6.1.0-58-amd64" || len(kerr.Failed) != 0 {
		t.Fatalf("FetchAndInstallKernels error %v, want 6.1.0-58-amd64 missing", err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		p := filepath.Join(root, install.ModulePath(r.Kernel))
		_, serr := os.Stat(p)
		switch r.Kernel {
		case "6.1.0-58-amd64":
			if !r.NoModuleYet() || serr == nil {
				t.Errorf("%s: %v, file %v", r.Kernel, r.Err, serr)
			}
		default:
			if r.Err != nil || serr != nil || r.Record == nil || !r.Record.Verified {
				t.Errorf("%s: %v, file %v", r.Kernel, r.Err, serr)
			}
			if !slices.ContainsFunc(r.Install.Notes, func(n install.Note) bool { return n.Kind == install.NoDepmod }) {
				t.Errorf("%s: no depmod note: %v", r.Kernel, r.Install.Notes)
			}
		}
	}
	m, err := install.ReadManifest(install.WithRoot(root))
	if err != nil || len(m.Files) != 2 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	// The hook's path: one kernel, then again (nothing changes).
	for range 2 {
		r, err := fetcher.FetchAndInstall(t.Context(), append(opts, fetcher.WithRelease("6.1.0-56-amd64"))...)
		if err != nil {
			t.Fatal(err)
		}
		if r.Install.Changed() {
			t.Errorf("installing the same module again changed %+v", r.Install.Changes)
		}
	}
	// A kernel with no directory: the module is verified but has nowhere to go.
	_, err = fetcher.FetchAndInstall(t.Context(), append(opts, fetcher.WithRelease("6.1.0-57-amd64"), fetcher.WithVersion("0.1.0"))...)
	if !errors.Is(err, install.ErrKernelNotInstalled) {
		t.Errorf("install for a kernel without /lib/modules: %v", err)
	}
	if _, err := install.Uninstall(t.Context(), install.WithRoot(root), install.WithCommands(noDepmod{})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, install.ModulePath("6.1.0-56-amd64"))); err == nil {
		t.Error("uninstall left the module")
	}
}

func TestFetchAndInstallKernelsFailures(t *testing.T) {
	key := newKey(t)
	layout := store.LayoutPrefix + t.TempDir()
	publishAll(t, layout, key, mods)
	root := fakeRoot(t, "6.1.0-56-amd64")
	// Keys add up (WithPublicKey is for rotations), so each case names its own.
	base := []fetcher.Option{fetcher.WithHost(debianHost), fetcher.WithRetryBackoff(fastRetry),
		fetcher.WithInstallOptions(install.WithCommands(noDepmod{}))}
	right := fetcher.WithPublicKey(&key.PublicKey)
	cases := map[string]struct {
		opts []fetcher.Option
		want string
	}{
		"source down":            {opts: []fetcher.Option{right, fetcher.WithSource("127.0.0.1:1/dnsmon/modules"), fetcher.WithRoot(root)}, want: "connection refused"},
		"wrong key":              {opts: []fetcher.Option{fetcher.WithSource(layout), fetcher.WithRoot(root), fetcher.WithPublicKey(&newKey(t).PublicKey)}, want: "failed for 6.1.0-56-amd64"},
		"no kernels":             {opts: []fetcher.Option{right, fetcher.WithSource(layout), fetcher.WithRoot(t.TempDir())}, want: "listing installed kernels"},
		"read-only /lib/modules": {opts: []fetcher.Option{right, fetcher.WithSource(layout), fetcher.WithRoot(root), fetcher.WithInstallOptions(install.WithFS(roFS{}))}, want: "failed for 6.1.0-56-amd64"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := fetcher.FetchAndInstallKernels(t.Context(), append(base, c.opts...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// roFS refuses every change, as a read-only filesystem does.
type roFS struct{ install.FS }

func (roFS) ReadFile(n string) ([]byte, error)   { return os.ReadFile(n) }
func (roFS) Lstat(n string) (os.FileInfo, error) { return os.Lstat(n) }
func (roFS) Readlink(n string) (string, error)   { return os.Readlink(n) }
func (roFS) Mkdir(string, os.FileMode) error {
	return &os.PathError{Op: "mkdir", Err: errors.New("read-only file system")}
}
func (roFS) WriteFile(string, []byte, os.FileMode) error {
	return &os.PathError{Op: "write", Err: errors.New("read-only file system")}
}
func (roFS) Symlink(string, string) error { return errors.New("read-only file system") }
func (roFS) Remove(string) error          { return errors.New("read-only file system") }

// TestList checks what List lists, and that it checks the version index
// as Fetch does: with the same keys, refusing it with the same errors.
func TestList(t *testing.T) {
	key := newKey(t)
	layout := store.LayoutPrefix + t.TempDir()
	publishAll(t, layout, key, mods)
	unsigned := store.LayoutPrefix + t.TempDir()
	publishAll(t, unsigned, nil, mods[:1])
	right := fetcher.WithPublicKey(&key.PublicKey)
	cases := map[string]struct {
		opts    []fetcher.Option
		want    string
		wantIs  error
		wantErr string
	}{
		"newest":        {opts: []fetcher.Option{right}, want: "debian-12/6.1.0-56-amd64 debian-12/6.1.0-99-amd64 debian-12/6.12.117+deb12-amd64"},
		"version 0.1.0": {opts: []fetcher.Option{right, fetcher.WithVersion("0.1.0")}, want: "debian-12/6.1.0-56-amd64 debian-12/6.1.0-56-cloud-amd64 debian-12/6.1.0-57-amd64 debian-12/6.12.117+deb12-amd64 rocky-9/5.14.0-427.13.1.el9_4.x86_64"},
		"distro id":     {opts: []fetcher.Option{right, fetcher.WithVersion("0.1.0"), fetcher.WithDistro("rocky")}, want: "rocky-9/5.14.0-427.13.1.el9_4.x86_64"},
		"other arch":    {opts: []fetcher.Option{right, fetcher.WithArch("arm64")}, want: ""},
		"no key":        {wantIs: fetcher.ErrNoKey},
		"wrong key": {opts: []fetcher.Option{fetcher.WithPublicKey(&newKey(t).PublicKey)}, wantIs: signature.ErrNoSignature,
			wantErr: "refusing the version index"},
		"unsigned index": {opts: []fetcher.Option{right, fetcher.WithSource(unsigned)}, wantIs: fetcher.ErrIndexUnsigned,
			wantErr: "version index is not signed"},
		"unsigned index, not checked": {opts: []fetcher.Option{fetcher.WithInsecureSkipVerify(), fetcher.WithSource(unsigned)},
			want: "debian-12/6.1.0-56-amd64"},
		"source down": {opts: []fetcher.Option{right, fetcher.WithSource("127.0.0.1:1/x"), fetcher.WithRetryBackoff(fastRetry)},
			wantErr: "connection refused"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := fetcher.List(t.Context(), append([]fetcher.Option{fetcher.WithSource(layout), fetcher.WithRoot(t.TempDir())}, c.opts...)...)
			if c.wantIs != nil || c.wantErr != "" {
				if err == nil || (c.wantIs != nil && !errors.Is(err, c.wantIs)) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("List: %v, want %v %q", err, c.wantIs, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, a := range got {
				s = append(s, a.Distro+"/"+a.Release)
			}
			if strings.Join(s, " ") != c.want {
				t.Errorf("got  %q\nwant %q", strings.Join(s, " "), c.want)
			}
		})
	}
}
