package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// KernelResult is the outcome for one kernel of FetchAndInstall or
// FetchAndInstallKernels.
type KernelResult struct {
	// Kernel is the release.
	Kernel string
	// Record describes the verified module; nil when none was fetched.
	Record *Record
	// Install is what the install package changed; nil when nothing was
	// fetched.
	Install *install.Result
	// Err is nil on success; a *NoModuleError when the source has no
	// module for this kernel yet.
	Err error
}

// NoModuleYet reports whether the kernel failed only because the source has
// no module for it yet.
func (r KernelResult) NoModuleYet() bool {
	var nm *NoModuleError
	return errors.As(r.Err, &nm)
}

// KernelsError says which kernels got no module.
type KernelsError struct {
	// Missing are the kernels the source has no module for yet.
	Missing []string
	// Failed are the kernels whose fetch, verification or install failed.
	Failed []string
}

func (e *KernelsError) Error() string {
	var parts []string
	if len(e.Failed) > 0 {
		parts = append(parts, "failed for "+strings.Join(e.Failed, ", "))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "no module yet for "+strings.Join(e.Missing, ", "))
	}
	return "dnsmon module " + strings.Join(parts, "; ")
}

// FetchAndInstall fetches and verifies the module for the target kernel
// (WithRelease, default the running one) and installs it into
// /lib/modules/KREL/updates under the root (WithRoot) with depmod,
// recording it in the install manifest: install.Module after Fetch. It
// installs the module file only; the boot configuration is
// install.ModuleAndBoot's, which takes a module file already on disk. It
// is what the kernel post-install hook runs.
func FetchAndInstall(ctx context.Context, opts ...Option) (*KernelResult, error) {
	return withSource(ctx, opts, func(o *options, keys signature.Keys, host Host, src store.Source) (*KernelResult, error) {
		r := o.installOne(ctx, src, keys, host)
		return &r, r.Err
	})
}

// FetchAndInstallKernels runs FetchAndInstall for every kernel installed
// under the root's /lib/modules (see InstalledKernels), reading the source
// once. It returns one result per kernel and, when any kernel got no
// module, a *KernelsError.
func FetchAndInstallKernels(ctx context.Context, opts ...Option) ([]KernelResult, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	keys, err := o.publicKeys()
	if err != nil {
		return nil, err
	}
	kernels, err := InstalledKernels(o.root)
	if err != nil {
		return nil, err
	}
	if len(kernels) == 0 {
		return nil, fmt.Errorf("no kernel installed under %s", filepath.Join(o.root, "lib/modules"))
	}
	host, err := o.target()
	if err != nil {
		return nil, err
	}
	src, err := store.Open(ctx, o.source, o.store...)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []KernelResult
	var kerr KernelsError
	for _, k := range kernels {
		h := host
		h.Release = k
		r := o.installOne(ctx, src, keys, h)
		switch {
		case r.NoModuleYet():
			kerr.Missing = append(kerr.Missing, k)
		case r.Err != nil:
			kerr.Failed = append(kerr.Failed, k)
		}
		out = append(out, r)
	}
	if len(kerr.Missing)+len(kerr.Failed) > 0 {
		return out, &kerr
	}
	return out, nil
}

func (o *options) installOne(ctx context.Context, src store.Source, keys signature.Keys, host Host) KernelResult {
	r := KernelResult{Kernel: host.Release}
	tmp, err := os.MkdirTemp("", "dnsmon-fetch-*")
	if err != nil {
		r.Err = fmt.Errorf("fetching for %s: %w", host.Release, err)
		return r
	}
	defer os.RemoveAll(tmp)
	// The temporary file is not worth a log line; the install logs the
	// files it writes.
	quiet := *o
	quiet.Log = io.Discard
	rec, err := quiet.fetchFrom(ctx, src, keys, host, filepath.Join(tmp, kmod.Name+".ko"))
	if err != nil {
		r.Err = err
		return r
	}
	r.Record = rec
	iopts := append([]install.Option{install.WithRoot(o.root), install.WithRelease(host.Release), install.WithLogger(o.Log)}, o.install...)
	r.Install, r.Err = install.Module(ctx, rec.Path, iopts...)
	return r
}

// InstalledKernels lists the kernel releases installed under root: the
// directories of root/lib/modules that hold a kernel's files (kernel/,
// modules.builtin, modules.order or vmlinuz). A directory holding only
// what dnsmon or depmod left behind after the kernel package was removed
// does not count.
func InstalledKernels(root string) ([]string, error) {
	dir := filepath.Join(root, "lib/modules")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing installed kernels: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		for _, marker := range []string{"kernel", "modules.builtin", "modules.order", "vmlinuz"} {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), marker)); err == nil {
				out = append(out, e.Name())
				break
			}
		}
	}
	slices.SortFunc(out, artifact.CompareVersions)
	return out, nil
}
