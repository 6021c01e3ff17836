package guest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// ModuleSource gets a dnsmon.ko built for a kernel. The development
// implementation builds against extracted Debian headers on this host; the
// builder farm provides one per suite image.
type ModuleSource interface {
	// Module returns the path of a dnsmon.ko built for k.
	Module(ctx context.Context, k debian.Kernel) (string, error)
}

// HostHeaders builds the module with the host's make and gcc against k's
// Debian header packages, extracted under CACHE/headers/RELEASE. It suits
// kernels built with the host's compiler (bookworm's gcc 12: 6.1 and
// 6.12+deb12).
type HostHeaders struct {
	Client *debian.Client
	// Source is the module source; kmod.Source() when nil.
	Source fs.FS
	// Log receives the build output; io.Discard when nil.
	Log io.Writer
}

var _ ModuleSource = (*HostHeaders)(nil)

// SourceDigest is the SHA256 over the module source's file names and contents.
func SourceDigest(src fs.FS) (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("walking module source: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(src, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Module builds (or reuses) CACHE/modules/DIGEST/RELEASE/dnsmon.ko.
func (b *HostHeaders) Module(ctx context.Context, k debian.Kernel) (string, error) {
	src := b.Source
	if src == nil {
		src = kmod.Source()
	}
	log := b.Log
	if log == nil {
		log = io.Discard
	}
	digest, err := SourceDigest(src)
	if err != nil {
		return "", err
	}
	cache := b.Client.CacheRoot()
	out := filepath.Join(cache, "modules", digest[:16], k.Release, "dnsmon.ko")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	kdir, err := b.headers(ctx, k)
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "dnsmon-build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	if err := os.CopyFS(work, src); err != nil {
		return "", fmt.Errorf("copying module source: %w", err)
	}
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "make", "-C", kdir, "M="+work, "-j2", "modules")
	cmd.Stdout = io.MultiWriter(&buf, log)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building dnsmon.ko for %q: %w\n%s", k.Release, err, tail(buf.String(), 3000))
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	ko, err := os.ReadFile(filepath.Join(work, "dnsmon.ko"))
	if err != nil {
		return "", fmt.Errorf("building dnsmon.ko for %q: %w", k.Release, err)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, ko, 0o644); err != nil {
		return "", err
	}
	return out, os.Rename(tmp, out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// headers extracts k's header packages into CACHE/headers/RELEASE and
// returns the directory to pass to make -C.
func (b *HostHeaders) headers(ctx context.Context, k debian.Kernel) (string, error) {
	root := filepath.Join(b.Client.CacheRoot(), "headers", k.Release)
	kdir := filepath.Join(root, "usr", "src", "linux-headers-"+k.Release)
	done := filepath.Join(root, ".complete")
	if _, err := os.Stat(done); err == nil {
		return kdir, fixMakefile(root, kdir)
	}
	if err := os.RemoveAll(root); err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	for _, p := range k.Headers {
		deb, err := b.Client.Download(ctx, p)
		if err != nil {
			return "", err
		}
		if err := debian.ExtractAll(deb, root); err != nil {
			return "", fmt.Errorf("extracting headers of %q: %w", k.Release, err)
		}
	}
	if err := fixMakefile(root, kdir); err != nil {
		return "", err
	}
	return kdir, os.WriteFile(done, nil, 0o644)
}

// usrSrcRE matches an absolute /usr/src/ path in a Makefile (after a space
// or an '='), not one already inside the extracted root.
var usrSrcRE = regexp.MustCompile(`(^|[\s=])/usr/src/`)

// fixMakefile points Debian's per-flavour Makefile, which names the -common
// tree (include) and itself (KBUILD_OUTPUT, from 7.x) by absolute paths
// under /usr/src, into the extracted root. It is idempotent.
func fixMakefile(root, kdir string) error {
	mk := filepath.Join(kdir, "Makefile")
	b, err := os.ReadFile(mk)
	if err != nil {
		return fmt.Errorf("reading %q: %w", mk, err)
	}
	fixed := usrSrcRE.ReplaceAllString(string(b), "${1}"+filepath.Join(root, "usr", "src")+"/")
	if fixed == string(b) {
		return nil
	}
	return os.WriteFile(mk, []byte(fixed), 0o644)
}
