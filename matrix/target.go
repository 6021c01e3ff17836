package matrix

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Target is one module build: a kernel release of a group, with everything
// the builder needs to make its headers image. Targets are values: Expand
// copies what it takes from the File.
type Target struct {
	// Group is the group's name.
	Group string `json:"group"`
	// Distro and DistroRelease name the distribution release.
	Distro        string `json:"distro"`
	DistroRelease string `json:"distro_release"`
	// Family is FamilyDeb or FamilyRPM.
	Family string `json:"family"`
	// Kernel is the kernel release (`uname -r`).
	Kernel string `json:"kernel"`
	// Arch is the Go/OCI architecture, e.g. "amd64".
	Arch string `json:"arch"`
	// Image is the base image reference, when pulled.
	Image string `json:"image,omitempty"`
	// Debootstrap is the base image recipe, when bootstrapped.
	Debootstrap *Debootstrap `json:"debootstrap,omitempty"`
	// Toolchain are packages installed before the headers.
	Toolchain []string `json:"toolchain,omitempty"`
	// Sources are extra package sources.
	Sources []Source `json:"sources,omitempty"`
	// ReplaceSources drops the image's own package sources.
	ReplaceSources bool `json:"replace_sources,omitempty"`
	// Method is the headers method (Headers.Method).
	Method string `json:"method"`
	// Packages and URLs are the header packages with templates expanded.
	Packages []string `json:"packages,omitempty"`
	URLs     []string `json:"urls,omitempty"`
	// KernelDir is the headers directory to build against.
	KernelDir string `json:"kernel_dir"`
}

// Name identifies the target: "GROUP/KERNEL".
func (t Target) Name() string { return t.Group + "/" + t.Kernel }

// Expand turns every kernel of every group into a Target, in file order.
// Tracked groups contribute only their listed kernels: call Resolve first.
func Expand(f *File) ([]Target, error) {
	var out []Target
	for _, g := range f.Groups {
		d, err := LookupDistro(g.Distro)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g.Name, err)
		}
		parch, err := d.PackageArch(g.Arch)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", g.Name, err)
		}
		for _, k := range g.Kernels {
			r, err := ParseRelease(k)
			if err != nil {
				return nil, fmt.Errorf("group %q: %w", g.Name, err)
			}
			data := TemplateData{Release: k, Version: r.Version(), Arch: parch, DistroRelease: g.Release}
			pkgs, err := expandAll(g.Headers.Packages, data)
			if err != nil {
				return nil, fmt.Errorf("group %q kernel %q: %w", g.Name, k, err)
			}
			urls, err := expandAll(g.Headers.URLs, data)
			if err != nil {
				return nil, fmt.Errorf("group %q kernel %q: %w", g.Name, k, err)
			}
			t := Target{
				Group: g.Name, Distro: g.Distro, DistroRelease: g.Release, Family: d.Family(),
				Kernel: k, Arch: g.Arch, Image: g.Image,
				Toolchain: slices.Clone(g.Toolchain), Sources: cloneSources(g.Sources),
				ReplaceSources: g.ReplaceSources, Method: g.Headers.Method,
				Packages: pkgs, URLs: urls, KernelDir: d.KernelDir(r),
			}
			if g.Debootstrap != nil {
				db := *g.Debootstrap
				db.Include = slices.Clone(db.Include)
				t.Debootstrap = &db
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func cloneSources(in []Source) []Source {
	out := make([]Source, len(in))
	for i, s := range in {
		out[i] = s
		if s.Yum != nil {
			y := *s.Yum
			out[i].Yum = &y
		}
	}
	return out
}

func expandAll(tmpls []string, data TemplateData) ([]string, error) {
	var out []string
	for _, s := range tmpls {
		t, err := parseTemplate(s)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("expanding %q: %w", s, err)
		}
		out = append(out, b.String())
	}
	return out, nil
}

// Filter returns the targets whose Name matches re; a nil re keeps all.
func Filter(targets []Target, re *regexp.Regexp) []Target {
	if re == nil {
		return slices.Clone(targets)
	}
	var out []Target
	for _, t := range targets {
		if re.MatchString(t.Name()) {
			out = append(out, t)
		}
	}
	return out
}

// TargetFor returns the target of kernel for arch (Go spelling; "" for
// any) in f: from the group of arch that lists it, or else from the first
// whose Track reads suite (the kernel need not be the newest: any release
// of that suite's index builds alike). The arch matters where a release
// does not name it: Ubuntu's 6.8.0-155-generic is an amd64 and an arm64
// kernel.
func TargetFor(f *File, suite, kernel, arch string) (Target, error) {
	var pick *Group
	for i := range f.Groups {
		g := &f.Groups[i]
		if arch != "" && cmp.Or(g.Arch, "amd64") != arch {
			continue
		}
		if slices.Contains(g.Kernels, kernel) {
			pick = g
			break
		}
		if pick == nil && suite != "" && g.Track != nil && g.Track.Suite == suite && fitsGroup(g, kernel) {
			pick = g
		}
	}
	if pick == nil {
		return Target{}, fmt.Errorf("no group of %s for %s lists kernel %q or tracks suite %q", f.name, cmp.Or(arch, "any arch"), kernel, suite)
	}
	d, err := LookupDistro(pick.Distro)
	if err != nil {
		return Target{}, err
	}
	r, err := ParseRelease(kernel)
	if err != nil {
		return Target{}, err
	}
	if err := d.CheckRelease(pick.Release, r, pick.Arch); err != nil {
		return Target{}, fmt.Errorf("group %q: %w", pick.Name, err)
	}
	g := *pick
	g.Kernels = []string{kernel}
	ts, err := Expand(&File{name: f.name, Groups: []Group{g}})
	if err != nil {
		return Target{}, err
	}
	return ts[0], nil
}

// fitsGroup reports whether kernel could be one of g's: of its distribution
// and architecture (a suite's amd64 and arm64 groups track alike).
func fitsGroup(g *Group, kernel string) bool {
	d, err := LookupDistro(g.Distro)
	if err != nil {
		return false
	}
	r, err := ParseRelease(kernel)
	return err == nil && d.CheckRelease(g.Release, r, g.Arch) == nil
}
