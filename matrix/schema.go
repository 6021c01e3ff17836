package matrix

import "github.com/dnsmon/dnsmon/matrix/debian"

// File is the whole kernels.yaml.
type File struct {
	// Groups lists the build groups, one per distribution release (and
	// package source), in the order they are built and shown.
	Groups []Group `yaml:"groups"`

	// name is the file name used in error messages.
	name string
}

// Group is one distribution release: where its builder image comes from, how
// kernel headers are installed into it, and which kernels it builds for.
type Group struct {
	// Name identifies the group in target names and --only filters, e.g.
	// "debian-12" or "debian-12-security". Unique within the file.
	Name string `yaml:"name"`
	// Distro selects the distribution rules: debian, ubuntu, centos, rocky,
	// alma or amazonlinux.
	Distro string `yaml:"distro"`
	// Release is the distribution release, e.g. "12", "22.04", "7", "2023".
	Release string `yaml:"release"`
	// Arch is the architecture in Go/OCI spelling; only "amd64" today.
	// Default "amd64".
	Arch string `yaml:"arch,omitempty"`
	// Image is the base image as a registry reference, e.g.
	// "docker.io/library/rockylinux:9". Exactly one of Image and
	// Debootstrap is set.
	Image string `yaml:"image,omitempty"`
	// Debootstrap makes the base image on the build host with debootstrap
	// and imports it into the engine, for places no registry is reachable.
	Debootstrap *Debootstrap `yaml:"debootstrap,omitempty"`
	// Toolchain lists packages installed before the headers (compiler,
	// make, libelf), for images that lack them. Debootstrap groups put them
	// in Debootstrap.Include instead.
	Toolchain []string `yaml:"toolchain,omitempty"`
	// Sources are extra package sources added before installing headers,
	// e.g. experimental on top of sid, or the CentOS vault.
	Sources []Source `yaml:"sources,omitempty"`
	// ReplaceSources removes the image's own package sources first, for
	// end-of-life releases whose mirrors are gone (CentOS 7).
	ReplaceSources bool `yaml:"replace_sources,omitempty"`
	// Headers says how the headers of one kernel are installed.
	Headers Headers `yaml:"headers"`
	// Kernels are the exact kernel releases (`uname -r`) to build for.
	Kernels []string `yaml:"kernels,omitempty"`
	// Track adds, at run time, the newest kernel of each listed flavour
	// in a suite's package index; the production matrix pins instead.
	Track *Track `yaml:"track,omitempty"`
	// Discover says where `dnsmon-farm discover` looks for new kernels of
	// this group; default: the distribution's own archive (see Discoverer).
	Discover *Discover `yaml:"discover,omitempty"`

	// line is where the group starts in the file; kernelLines[i] is the
	// line of Kernels[i].
	line        int
	kernelLines []int
}

// Debootstrap is a base image made with `debootstrap --variant=minbase`.
type Debootstrap struct {
	// Suite is the Debian or Ubuntu suite, e.g. "bookworm", "sid", "noble".
	Suite string `yaml:"suite"`
	// Mirror is the archive URL; default the distribution's archive,
	// "http://deb.debian.org/debian" or "http://archive.ubuntu.com/ubuntu".
	Mirror string `yaml:"mirror,omitempty"`
	// Components are the archive components the image is made from and
	// lists; default [main], Ubuntu's [main, universe] (dwarves, which
	// kernels with BTF need, is in universe on older releases).
	Components []string `yaml:"components,omitempty"`
	// Pockets are the suites beside Suite, named by suffix, that the image
	// is made from and lists: Ubuntu's default [updates, security], where
	// its kernels and the compilers they were built with are updated;
	// Debian's none (its point releases update Suite itself).
	Pockets []string `yaml:"pockets,omitempty"`
	// Include lists extra packages, e.g. gcc, make, libc6-dev, dwarves.
	Include []string `yaml:"include,omitempty"`
	// Archive is whose keys sign the suites: the group's distribution.
	Archive debian.Archive `yaml:"-" json:"archive,omitempty"`
}

// Suites are Suite and its pockets: "noble", "noble-updates", …
func (d *Debootstrap) Suites() []string { return withPockets(d.Suite, d.Pockets) }

// Headers says how to install one kernel's headers into the builder image.
type Headers struct {
	// Method is one of:
	//   apt          apt-get install Packages (Ubuntu);
	//   apt-extract  resolve Packages and their linux-headers-* and
	//                linux-kbuild-* dependencies in the debootstrap suite's
	//                signed index, download and unpack them once on the farm
	//                host into a tree shared by every build of that kernel,
	//                and bind-mount it read-only into the base image, with
	//                the compiler they depend on added once per suite; no
	//                image per kernel (needs debootstrap);
	//   yum, dnf     yum/dnf install Packages;
	//   urls         download URLs and install them with the image's package
	//                tool (rpm or dpkg), for kernels no repository serves;
	//                each is checked against the SHA-256 its entry names.
	Method string `yaml:"method"`
	// Packages are package names as text/template strings over
	// TemplateData, e.g. "linux-headers-{{.Release}}".
	Packages []string `yaml:"packages,omitempty"`
	// URLs are the packages of method urls, each "URL sha256:HEX": an
	// http(s) URL (a template) and the file's SHA-256, which the build
	// checks before installing it (ParsePackageURL).
	URLs []string `yaml:"urls,omitempty"`
}

// Source is one extra package source. Exactly one field is set.
type Source struct {
	// Apt is a one-line sources.list entry, e.g.
	// "deb http://deb.debian.org/debian experimental main".
	Apt string `yaml:"apt,omitempty"`
	// Yum is a yum/dnf repository.
	Yum *YumRepo `yaml:"yum,omitempty"`
}

// YumRepo is a yum/dnf repository definition.
type YumRepo struct {
	// ID is the repository id, [A-Za-z0-9_.-]+.
	ID string `yaml:"id"`
	// BaseURL is the repository's baseurl.
	BaseURL string `yaml:"baseurl"`
	// GPGKey is the key the repository's packages must be signed with:
	// "file:///PATH" of a key the base image ships, or an https:// URL.
	// yum and dnf check every package against it (gpgcheck=1). Default:
	// the distribution's own key in its images (GPGKeyer), for
	// repositories of the distribution such as CentOS 7's vault; set it
	// for any other repository. Not read for discover sources, which only
	// list kernels.
	GPGKey string `yaml:"gpgkey,omitempty"`
}

// Track resolves the newest kernels of a Debian suite at run time.
type Track struct {
	// Mirror is the archive URL; default the group's Debootstrap.Mirror.
	Mirror string `yaml:"mirror,omitempty"`
	// Suite is the suite whose index is read; default the group's
	// Debootstrap.Suite.
	Suite string `yaml:"suite,omitempty"`
	// Pockets are suffixes of the suites read beside Suite; default the
	// group's Debootstrap.Pockets when Suite is the debootstrap suite.
	Pockets []string `yaml:"pockets,omitempty"`
	// Flavours are kernel flavours: Debian's "amd64", "rt-amd64",
	// "cloud-amd64"; Ubuntu's are its kernel metapackages' names without
	// "linux-headers-": "generic" (the release's GA line),
	// "generic-hwe-24.04" (its HWE line), "aws", "lowlatency".
	Flavours []string `yaml:"flavours"`
}

// Suites are Suite and its pockets.
func (t *Track) Suites() []string { return withPockets(t.Suite, t.Pockets) }

// withPockets is suite followed by suite-POCKET for each pocket.
func withPockets(suite string, pockets []string) []string {
	out := []string{suite}
	for _, p := range pockets {
		out = append(out, suite+"-"+p)
	}
	return out
}

// Discover overrides where new kernels of a group are looked for.
type Discover struct {
	// Sources are the package indexes to read instead of the
	// distribution's default ones: apt lines ("deb URL SUITE COMPONENT…")
	// for Debian and Ubuntu, yum repositories (baseurl: the directory
	// holding repodata/, or an Amazon Linux mirror.list URL) for RPM
	// distributions.
	Sources []Source `yaml:"sources,omitempty"`
	// Flavours limits discovery to these kernel flavours ("generic",
	// "aws", "rt-amd64"; RPM kernels have one, ""). Default: the flavours
	// of the group's kernels and of its track.
	Flavours []string `yaml:"flavours,omitempty"`
}

// TemplateData is what header package and URL templates see.
type TemplateData struct {
	// Release is the full `uname -r`, e.g. "6.1.0-56-amd64".
	Release string
	// Version is "MAJOR.MINOR.PATCH".
	Version string
	// Arch is the distribution's spelling of the architecture (amd64 on
	// Debian and Ubuntu, x86_64 on RPM distributions).
	Arch string
	// DistroRelease is the group's Release.
	DistroRelease string
}
