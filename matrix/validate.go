package matrix

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"
)

// DefaultDebianMirror is the archive debootstrap and track use by default.
const DefaultDebianMirror = "http://deb.debian.org/debian"

var (
	groupNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	pkgNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_-]*$`)
	repoIDRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	suiteRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)
	componentRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// validate applies defaults and reports every problem in f.
func (f *File) validate() []error {
	var errs []error
	at := func(line int, format string, args ...any) {
		errs = append(errs, &PosError{File: f.name, Line: line, Err: fmt.Errorf(format, args...)})
	}
	if len(f.Groups) == 0 {
		at(1, "no groups")
	}
	groupAt := map[string]int{}
	type key struct{ release, arch string }
	kernelAt := map[key]string{} // -> "file:line"
	for i := range f.Groups {
		g := &f.Groups[i]
		g.applyDefaults()
		gat := func(format string, args ...any) {
			at(g.line, "group %q: %s", g.Name, fmt.Sprintf(format, args...))
		}
		switch {
		case g.Name == "":
			at(g.line, "group without a name")
		case !groupNameRE.MatchString(g.Name):
			gat("name must match %s", groupNameRE)
		default:
			if prev, dup := groupAt[g.Name]; dup {
				gat("name already used at line %d", prev)
			} else {
				groupAt[g.Name] = g.line
			}
		}
		d, err := LookupDistro(g.Distro)
		if err != nil {
			gat("%v", err)
		}
		if g.Release == "" {
			gat("missing release")
		}
		if d != nil {
			if _, err := d.PackageArch(g.Arch); err != nil {
				gat("%v", err)
			}
		}
		switch {
		case g.Image == "" && g.Debootstrap == nil:
			gat("needs a base: image or debootstrap")
		case g.Image != "" && g.Debootstrap != nil:
			gat("image and debootstrap are exclusive")
		case g.Debootstrap != nil:
			if d != nil && d.Family() != FamilyDeb {
				gat("debootstrap makes Debian-family images, not %s", g.Distro)
			}
			if !suiteRE.MatchString(g.Debootstrap.Suite) {
				gat("debootstrap: bad or missing suite %q", g.Debootstrap.Suite)
			}
			if err := checkURL(g.Debootstrap.Mirror); err != nil {
				gat("debootstrap: mirror: %v", err)
			}
			for _, p := range g.Debootstrap.Include {
				if !pkgNameRE.MatchString(p) {
					gat("debootstrap: bad package name %q", p)
				}
			}
			for _, c := range g.Debootstrap.Components {
				if !componentRE.MatchString(c) {
					gat("debootstrap: bad component %q", c)
				}
			}
			for _, p := range g.Debootstrap.Pockets {
				if !componentRE.MatchString(p) {
					gat("debootstrap: bad pocket %q (a suffix such as updates or security)", p)
				}
			}
		case strings.ContainsAny(g.Image, " \t\n") || strings.HasPrefix(g.Image, "-"):
			gat("bad image reference %q", g.Image)
		default:
			if _, err := ParseImage(g.Image); err != nil {
				gat("%v", err)
			}
		}
		for _, p := range g.Toolchain {
			if !pkgNameRE.MatchString(p) {
				gat("toolchain: bad package name %q", p)
			}
		}
		for _, s := range g.Sources {
			switch {
			case (s.Apt == "") == (s.Yum == nil):
				gat("each source needs exactly one of apt and yum")
			case s.Apt != "":
				if d != nil && d.Family() != FamilyDeb {
					gat("apt source on an %s distribution", d.Family())
				}
				if fs := strings.Fields(s.Apt); len(fs) < 3 || (fs[0] != "deb" && fs[0] != "deb-src") || strings.ContainsAny(s.Apt, "\n'") {
					gat("apt source %q is not a one-line `deb URL SUITE [COMPONENT...]` entry", s.Apt)
				}
				for _, opt := range uncheckedAptOptions(s.Apt) {
					gat("apt source %q: option %s turns off apt's signature check: the farm installs only signed packages (name the source's key with signed-by= instead)", s.Apt, opt)
				}
			default:
				if d != nil && d.Family() != FamilyRPM {
					gat("yum source on a %s distribution", d.Family())
				}
				if !repoIDRE.MatchString(s.Yum.ID) {
					gat("yum source: bad id %q", s.Yum.ID)
				}
				if err := checkURL(s.Yum.BaseURL); err != nil {
					gat("yum source %q: baseurl: %v", s.Yum.ID, err)
				}
				if k, ok := d.(GPGKeyer); ok && s.Yum.GPGKey == "" {
					s.Yum.GPGKey = k.GPGKey(g.Release)
				}
				switch {
				case d == nil || d.Family() != FamilyRPM:
				case s.Yum.GPGKey == "":
					gat("yum source %q: no gpgkey, and dnsmon does not know where %s %s images keep the distribution's key: the farm installs only signed packages, so add gpgkey: file:///etc/pki/rpm-gpg/KEY (a key the base image ships) or gpgkey: https://… (the repository's signing key)", s.Yum.ID, g.Distro, g.Release)
				default:
					if err := checkGPGKey(s.Yum.GPGKey); err != nil {
						gat("yum source %q: %v", s.Yum.ID, err)
					}
				}
			}
		}
		if g.ReplaceSources && len(g.Sources) == 0 {
			gat("replace_sources without sources would leave no package source")
		}
		h := g.Headers
		if d != nil {
			if h.Method == "" {
				gat("headers: missing method")
			} else if err := checkMethod(d, h.Method); err != nil {
				gat("headers: %v", err)
			}
		}
		if h.Method == MethodAptExtract && g.Image != "" {
			gat("headers: method apt-extract unpacks the packages of the debootstrap suite's index and needs a debootstrap base (use method apt with an image)")
		}
		if h.Method == MethodURLs {
			if len(h.URLs) == 0 {
				gat("headers: method urls needs urls")
			}
			for _, e := range h.URLs {
				if _, _, err := ParsePackageURL(e); err != nil {
					gat("headers: %v", err)
				}
			}
			// A digest pins one file: one kernel per urls group.
			if len(g.Kernels) > 1 || g.Track != nil {
				gat("headers: method urls pins each package by its sha256, so a urls group lists exactly one kernel and no track (make one group per kernel)")
			}
		} else if h.Method != "" && len(h.Packages) == 0 {
			gat("headers: method %s needs packages", h.Method)
		}
		for _, s := range append(append([]string(nil), h.Packages...), h.URLs...) {
			if _, err := parseTemplate(s); err != nil {
				gat("headers: %v", err)
			}
		}
		if g.Track != nil {
			tr, ok := d.(Tracker)
			switch {
			case d == nil:
			case !ok:
				gat("track is not supported for %s", g.Distro)
			case len(g.Track.Flavours) == 0:
				gat("track: no flavours")
			default:
				for _, fl := range g.Track.Flavours {
					if err := tr.CheckFlavour(fl, g.Arch); err != nil {
						gat("track: %v", err)
					}
				}
			}
			if !suiteRE.MatchString(g.Track.Suite) {
				gat("track: bad or missing suite %q", g.Track.Suite)
			}
			for _, p := range g.Track.Pockets {
				if !componentRE.MatchString(p) {
					gat("track: bad pocket %q (a suffix such as updates or security)", p)
				}
			}
			if err := checkURL(g.Track.Mirror); err != nil {
				gat("track: mirror: %v", err)
			}
		}
		if dc := g.Discover; dc != nil {
			for _, s := range dc.Sources {
				switch {
				case (s.Apt == "") == (s.Yum == nil):
					gat("discover: each source needs exactly one of apt and yum")
				case s.Apt != "":
					if d != nil && d.Family() != FamilyDeb {
						gat("discover: apt source on an %s distribution", d.Family())
					}
					if fs := strings.Fields(s.Apt); len(fs) < 3 || fs[0] != "deb" {
						gat("discover: apt source %q is not a `deb URL SUITE [COMPONENT...]` line", s.Apt)
					} else if err := checkURL(fs[1]); err != nil {
						gat("discover: apt source %q: %v", s.Apt, err)
					}
				default:
					if d != nil && d.Family() != FamilyRPM {
						gat("discover: yum source on a %s distribution", d.Family())
					}
					if err := checkURL(s.Yum.BaseURL); err != nil {
						gat("discover: yum source %q: baseurl: %v", s.Yum.ID, err)
					}
				}
			}
			if _, ok := d.(Discoverer); d != nil && !ok {
				gat("discover is not supported for %s", g.Distro)
			}
		}
		if len(g.Kernels) == 0 && g.Track == nil {
			gat("no kernels and no track")
		}
		for j, k := range g.Kernels {
			line := g.line
			if j < len(g.kernelLines) {
				line = g.kernelLines[j]
			}
			r, err := ParseRelease(k)
			if err != nil {
				at(line, "group %q: %v", g.Name, err)
				continue
			}
			if d != nil {
				if err := d.CheckRelease(g.Release, r, g.Arch); err != nil {
					at(line, "group %q: %v", g.Name, err)
					continue
				}
			}
			kk := key{k, g.Arch}
			if prev, dup := kernelAt[kk]; dup {
				at(line, "group %q: duplicate kernel %q (first at %s)", g.Name, k, prev)
				continue
			}
			kernelAt[kk] = fmt.Sprintf("line %d", line)
		}
	}
	return errs
}

// applyDefaults fills in the documented defaults.
func (g *Group) applyDefaults() {
	if g.Arch == "" {
		g.Arch = "amd64"
	}
	// A group of an unknown distribution keeps Debian's defaults until
	// validation rejects it.
	var a DebArchive = debianRules{}
	if da, ok := debArchiveOf(g.Distro); ok {
		a = da
	}
	mirror := a.DefaultMirror(g.Arch)
	if d := g.Debootstrap; d != nil {
		if d.Mirror == "" {
			d.Mirror = mirror
		}
		if d.Components == nil {
			d.Components = a.DefaultComponents()
		}
		if d.Pockets == nil {
			d.Pockets = a.DefaultPockets()
		}
		d.Archive = a.Archive()
	}
	if t := g.Track; t != nil {
		if t.Mirror == "" {
			t.Mirror = mirror
			if g.Debootstrap != nil {
				t.Mirror = g.Debootstrap.Mirror
			}
		}
		if t.Suite == "" && g.Debootstrap != nil {
			t.Suite = g.Debootstrap.Suite
			if t.Pockets == nil {
				t.Pockets = g.Debootstrap.Pockets
			}
		}
	}
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if strings.ContainsAny(s, " '\"\n") {
		return errors.New("URL contains quotes or spaces")
	}
	return nil
}

func parseTemplate(s string) (*template.Template, error) {
	t, err := template.New(s).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", s, err)
	}
	return t, nil
}

// ParsePackageURL splits a urls entry, "URL sha256:HEX", into the URL and
// the lowercase hex SHA-256.
func ParsePackageURL(entry string) (url, sha256 string, err error) {
	fs := strings.Fields(entry)
	if len(fs) != 2 || !strings.HasPrefix(fs[1], "sha256:") {
		return "", "", fmt.Errorf("urls entry %q: want \"URL sha256:HEX\", the package's SHA-256 after its URL, which the build checks before installing it", entry)
	}
	url, sha256 = fs[0], strings.TrimPrefix(fs[1], "sha256:")
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return "", "", fmt.Errorf("urls entry %q: the URL must be http:// or https://", entry)
	}
	if len(sha256) != 64 || strings.Trim(sha256, "0123456789abcdef") != "" {
		return "", "", fmt.Errorf("urls entry %q: sha256 must be 64 lowercase hex digits", entry)
	}
	return url, sha256, nil
}

// uncheckedAptOptions returns the options of a one-line apt source
// ("deb [OPT=V ...] URL SUITE") that let apt install what its signature
// check refuses.
func uncheckedAptOptions(line string) []string {
	_, rest, ok := strings.Cut(line, "[")
	if !ok {
		return nil
	}
	opts, _, _ := strings.Cut(rest, "]")
	var bad []string
	for _, o := range strings.Fields(opts) {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "trusted", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure":
			if v != "no" {
				bad = append(bad, o)
			}
		}
	}
	return bad
}
