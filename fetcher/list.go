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
// by WithDistro and WithArch, sorted by distribution and release.
//
// It checks the version index as Fetch does, with the same keys: its
// signature (ErrNoKey without a key or WithInsecureSkipVerify), its expiry
// and its serial against the highest this host has seen from the source
// (WithAllowExpired, WithAllowRollback), so that a list cannot hide the
// releases a newer publish added. The version's index is read by the digest
// the verified version index names. List remembers no serial: it installs
// nothing, and may run as a user who cannot write the state.
func List(ctx context.Context, opts ...Option) ([]Available, error) {
	o, err := makeOptions(opts...)
	if err != nil {
		return nil, err
	}
	keys, err := o.publicKeys()
	if err != nil {
		return nil, err
	}
	src, err := store.Open(ctx, o.source, o.store...)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	vi, err := ReadVersionIndex(ctx, src, keys)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		if _, err := o.checkFresh(src, vi); err != nil { // freshness.go; remembering is Fetch's
			return nil, err
		}
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
