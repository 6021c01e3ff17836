package fetcher

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrNoVersion means a source holds no dnsmon module version.
var ErrNoVersion = errors.New("no dnsmon module version")

// NoModuleError means the index of a module version lists no build for the
// target kernel release and architecture.
type NoModuleError struct {
	Source, Version, Release, Arch string
	// Distro is the host's distribution, "debian-12".
	Distro string
	// Nearest are the closest releases available for that distribution and
	// architecture, best first.
	Nearest []string
	// ESM is set when the host runs an Ubuntu release past standard
	// support, whose newer kernels only Ubuntu Pro (ESM) publishes.
	ESM bool
}

func (e *NoModuleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no dnsmon %s module for kernel %s (%s) in %s", e.Version, e.Release, e.Arch, e.Source)
	if len(e.Nearest) > 0 {
		fmt.Fprintf(&b, "; nearest available")
		if e.Distro != "" {
			fmt.Fprintf(&b, " for %s", e.Distro)
		}
		fmt.Fprintf(&b, ": %s", strings.Join(e.Nearest, ", "))
	} else {
		fmt.Fprintf(&b, "; none is available for that distribution and architecture")
	}
	group := "the group of your distribution"
	if e.Distro != "" {
		group = "the " + e.Distro + " group"
	}
	if e.ESM {
		// The public archive kernels.yaml tracks stops where ESM begins: a
		// kernels: line alone would find no headers for an ESM kernel.
		fmt.Fprintf(&b, "; %s is past standard support, and if %s is an Ubuntu Pro (ESM) kernel, its headers are only on Pro's archive, which the public build does not read: "+
			"add a group to kernels.yaml that pins it (kernels: [%s]) and takes its linux-headers packages from your own Pro mirror (headers: {method: urls}), as README \"ESM kernels\" shows", e.Distro, e.Release, e.Release)
		return b.String()
	}
	fmt.Fprintf(&b, "; to have it built, add this line to the kernels: list of %s in kernels.yaml:\n      - %s", group, e.Release)
	return b.String()
}

// esmReleases are the Ubuntu releases past standard support: their newer
// kernels come only through Ubuntu Pro (ESM).
var esmReleases = []string{"14.04", "16.04", "18.04", "20.04"}

// ESM reports whether h runs an Ubuntu release past standard support.
func (h Host) ESM() bool {
	return strings.EqualFold(h.Distro, "ubuntu") && slices.Contains(esmReleases, h.DistroVersion)
}

// pick returns the descriptor for release and arch.
func pick(descs []v1.Descriptor, release, arch string) (v1.Descriptor, bool) {
	for _, d := range descs {
		if d.Annotations[artifact.AnnotationRelease] == release && d.Annotations[artifact.AnnotationArch] == arch {
			return d, true
		}
	}
	return v1.Descriptor{}, false
}

var numRE = regexp.MustCompile(`[0-9]+`)

// flavour is a release with its numbers blanked: "6.1.0-56-cloud-amd64"
// gives "#.#.#-#-cloud-amd64".
func flavour(r string) string { return numRE.ReplaceAllString(r, "#") }

func numbers(r string) []uint64 {
	var out []uint64
	for _, s := range numRE.FindAllString(r, -1) {
		n, _ := strconv.ParseUint(s, 10, 64)
		out = append(out, n)
	}
	return out
}

// distroID returns "debian" for "debian-12".
func distroID(d string) string {
	id, _, _ := strings.Cut(strings.ToLower(d), "-")
	return id
}

// nearest returns up to n releases from descs for arch, closest to release
// first: same distribution, same flavour, then the longest run of equal
// leading numbers, then the smallest difference in the first unequal one.
func nearest(descs []v1.Descriptor, release, arch, distro string, n int) []string {
	if out := nearestIn(descs, release, arch, distro, n); len(out) > 0 || distro == "" {
		return out
	}
	return nearestIn(descs, release, arch, "", n)
}

func nearestIn(descs []v1.Descriptor, release, arch, distro string, n int) []string {
	type cand struct {
		rel         string
		sameDistro  bool
		sameFlavour bool
		common      int
		diff        uint64
	}
	want := numbers(release)
	var cs []cand
	for _, d := range descs {
		a := d.Annotations
		if a[artifact.AnnotationArch] != arch {
			continue
		}
		rel := a[artifact.AnnotationRelease]
		if distro != "" && a[artifact.AnnotationDistro] != "" && distroID(a[artifact.AnnotationDistro]) != distroID(distro) {
			continue
		}
		c := cand{rel: rel, sameDistro: strings.EqualFold(a[artifact.AnnotationDistro], distro), sameFlavour: flavour(rel) == flavour(release)}
		got := numbers(rel)
		for c.common < len(want) && c.common < len(got) && want[c.common] == got[c.common] {
			c.common++
		}
		if c.common < len(want) && c.common < len(got) {
			x, y := want[c.common], got[c.common]
			if x > y {
				c.diff = x - y
			} else {
				c.diff = y - x
			}
		}
		cs = append(cs, c)
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if d := b2i(y.sameDistro) - b2i(x.sameDistro); d != 0 {
			return d
		}
		if d := b2i(y.sameFlavour) - b2i(x.sameFlavour); d != 0 {
			return d
		}
		if d := y.common - x.common; d != 0 {
			return d
		}
		if x.diff != y.diff {
			if x.diff < y.diff {
				return -1
			}
			return 1
		}
		return strings.Compare(x.rel, y.rel)
	})
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].rel)
	}
	return out
}
