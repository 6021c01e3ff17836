package fetcher

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
)

// Available is one module build a source offers.
type Available struct {
	Release string `json:"release"`
	Arch    string `json:"arch"`
	Distro  string `json:"distro,omitempty"`
	Version string `json:"version"`
}

// List returns the kernel releases the source has a module for, from the
// index of one module version (WithVersion, default the newest), narrowed
// by WithDistro and WithArch, sorted by distribution and release. It needs
// no key: nothing is installed, and each module is verified when fetched.
func List(ctx context.Context, opts ...Option) ([]Available, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	src, err := store.Open(ctx, o.source, o.store...)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// Unverified: List installs nothing, and needs no key.
	vi, err := ReadVersionIndex(ctx, src, nil)
	if err != nil {
		return nil, err
	}
	iv, descs, err := versionIndexOf(ctx, src, vi, o.version)
	if err != nil {
		return nil, err
	}
	var out []Available
	for _, d := range descs {
		a := Available{Release: d.Annotations[artifact.AnnotationRelease], Arch: d.Annotations[artifact.AnnotationArch],
			Distro: d.Annotations[artifact.AnnotationDistro], Version: iv}
		if o.arch != "" && a.Arch != o.arch {
			continue
		}
		if o.distro != "" && !strings.EqualFold(a.Distro, o.distro) && !strings.EqualFold(distroID(a.Distro), o.distro) {
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Available) int {
		return cmp.Or(strings.Compare(a.Distro, b.Distro), artifact.CompareVersions(a.Release, b.Release), strings.Compare(a.Arch, b.Arch))
	})
	return out, nil
}
