package options

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Keygen holds the flags of dnsmon-farm keygen.
type Keygen struct {
	// Dir is where the key files are written.
	Dir string
	// Force replaces existing key files.
	Force bool
	// ModuleSigning writes the module signing key and certificate instead
	// of the artifact key pair.
	ModuleSigning bool
}

// AddKeygenFlags registers the flags of dnsmon-farm keygen on fs.
func AddKeygenFlags(fs *flag.FlagSet, k *Keygen) {
	fs.StringVar(&k.Dir, "dir", ".", "directory to write dnsmon.key and dnsmon.pub into")
	fs.BoolVar(&k.Force, "force", false, "replace existing key files")
	fs.BoolVar(&k.ModuleSigning, "module-signing", false, "write the module signing key and X.509 certificate (for Secure Boot) instead of the artifact key")
}

// Validate checks the flags.
func (k *Keygen) Validate() error {
	if k.Dir == "" {
		return errors.New("--dir is empty")
	}
	return nil
}

// Publish holds the flags of dnsmon-farm publish.
type Publish struct {
	// From is the directory a `build --to dir:DIR` wrote.
	From string
	// To is the destination: REGISTRY/REPO or oci-layout:DIR.
	To string
	// Key is the artifact signing key.
	Key string
	// Expires is when hosts stop accepting the version index written.
	Expires Expires
}

// AddPublishFlags registers the flags of dnsmon-farm publish on fs.
func AddPublishFlags(fs *flag.FlagSet, p *Publish) {
	fs.StringVar(&p.From, "from", "", "directory of built modules (dnsmon-farm build --to dir:DIR)")
	fs.StringVar(&p.To, "to", "", "where to publish: REGISTRY/REPO or oci-layout:DIR")
	fs.StringVar(&p.Key, "key", "", "signing key (dnsmon.key from dnsmon-farm keygen)")
	addExpiresFlag(fs, &p.Expires)
}

// Validate checks the flags.
func (p *Publish) Validate() error {
	switch {
	case p.From == "" || p.To == "":
		return errors.New("--from DIR and --to TARGET are required")
	case p.Key == "":
		return errors.New("--key FILE is required (dnsmon-farm keygen makes one)")
	}
	return p.Expires.check(time.Now())
}

// Bundle holds the flags of dnsmon-farm bundle.
type Bundle struct {
	// From is the source: REGISTRY/REPO, oci-layout:DIR or another bundle.
	From string
	// Out is the bundle file to write; its name ends in .tar.zst.
	Out string
	// Only keeps the kernel releases it matches; empty keeps all.
	Only string
	// Versions are the module versions to include; empty includes all.
	Versions Strings
	// Arches are the architectures to include, GOARCH spelling; empty
	// includes all.
	Arches Strings
	// InsecureRegistry allows plain HTTP to the registry.
	InsecureRegistry bool
	// Key is the artifact signing key, for the version index of a bundle
	// of part of the source (--only, --version).
	Key string

	// OnlyRE is Only, compiled by Validate; nil when Only is empty.
	OnlyRE *regexp.Regexp
}

// AddBundleFlags registers the flags of dnsmon-farm bundle on fs.
func AddBundleFlags(fs *flag.FlagSet, b *Bundle) {
	fs.StringVar(&b.From, "from", "", "source: REGISTRY/REPO, oci-layout:DIR or another bundle")
	fs.StringVar(&b.Out, "o", "", "bundle file to write, FILE.tar.zst")
	fs.StringVar(&b.Only, "only", "", "keep only kernel releases matching this regular expression")
	fs.Var(&b.Versions, "version", "module version to include (repeatable; default: every version)")
	fs.Var(&b.Arches, "arch", "architecture to include, GOARCH spelling: amd64, arm64 (repeatable; default: every architecture)")
	fs.BoolVar(&b.InsecureRegistry, "insecure-registry", false, "allow plain HTTP to the registry")
	fs.StringVar(&b.Key, "key", "", "signing key (dnsmon.key): signs the bundle's own version index when --only or --version leave part of the source out (default: none; a whole source's signed index is copied as it is)")
}

// Validate checks the flags and compiles --only.
func (b *Bundle) Validate() error {
	switch {
	case b.From == "":
		return errors.New("--from is required")
	case b.Out == "":
		return errors.New("-o FILE.tar.zst is required")
	case !strings.HasSuffix(b.Out, ".tar.zst"):
		return fmt.Errorf("-o %q: the name must end in .tar.zst (dnsmon-fetch recognises bundles by it)", b.Out)
	}
	for _, a := range b.Arches {
		// Artifacts carry the GOARCH spelling; uname -m's would select nothing.
		if goarch, ok := unameArches[a]; ok {
			return fmt.Errorf("--arch %s: architectures are spelled as GOARCH: --arch %s", a, goarch)
		}
	}
	re, err := compileOnly(b.Only)
	b.OnlyRE = re
	return err
}

// unameArches maps uname -m spellings to the GOARCH spelling artifacts use.
var unameArches = map[string]string{"x86_64": "amd64", "aarch64": "arm64"}

// Reindex holds the flags of dnsmon-farm reindex.
type Reindex struct {
	// Repo is the repository: REGISTRY/REPO or oci-layout:DIR.
	Repo string
	// Versions are the versions whose index to rebuild; empty means all.
	Versions Strings
	// IncludeUnsigned also lists modules without a signature.
	IncludeUnsigned bool
	// Key is the artifact signing key the version index is signed with.
	Key string
	// Unsigned writes the version index unsigned (test repositories).
	Unsigned bool
	// Expires is when hosts stop accepting the version index written.
	Expires Expires
}

// AddReindexFlags registers the flags of dnsmon-farm reindex on fs.
func AddReindexFlags(fs *flag.FlagSet, r *Reindex) {
	fs.StringVar(&r.Repo, "repo", "", "repository to reindex: REGISTRY/REPO or oci-layout:DIR")
	fs.Var(&r.Versions, "version", "module version whose index to rebuild (repeatable; default: every version with module tags)")
	fs.BoolVar(&r.IncludeUnsigned, "include-unsigned", false, "also list modules that have no signature")
	fs.StringVar(&r.Key, "key", "", "signing key (dnsmon.key) for the version index")
	fs.BoolVar(&r.Unsigned, "unsigned", false, "write the version index unsigned (dnsmon-fetch then needs --insecure-skip-verify)")
	addExpiresFlag(fs, &r.Expires)
}

// Validate checks the flags.
func (r *Reindex) Validate() error {
	switch {
	case r.Repo == "":
		return errors.New("--repo is required")
	case r.Key == "" && !r.Unsigned:
		return errors.New("--key FILE is required: the version index is signed (dnsmon-farm keygen makes a key; --unsigned for a test repository)")
	case r.Key != "" && r.Unsigned:
		return errors.New("--key and --unsigned exclude each other")
	}
	return r.Expires.check(time.Now())
}

// Discover holds the flags of dnsmon-farm discover.
type Discover struct {
	// File is the kernels file.
	File string
	// Only limits discovery to the groups it matches; empty means all.
	Only string
	// Write adds new releases of pinned groups to File.
	Write bool
	// JSON prints the results as JSON.
	JSON bool

	// OnlyRE is Only, compiled by Validate; nil when Only is empty.
	OnlyRE *regexp.Regexp
}

// AddDiscoverFlags registers the flags of dnsmon-farm discover on fs.
func AddDiscoverFlags(fs *flag.FlagSet, d *Discover) {
	fs.StringVar(&d.File, "f", DefaultKernelsFile, "kernels file")
	fs.StringVar(&d.Only, "only", "", "discover only groups whose name matches this regular expression")
	fs.BoolVar(&d.Write, "write", false, "add the new releases of pinned groups to the kernels file (atomically, keeping comments)")
	fs.BoolVar(&d.JSON, "json", false, "print the results as JSON")
}

// Validate checks the flags and compiles --only.
func (d *Discover) Validate() error {
	if d.File == "" {
		return errors.New("-f is empty")
	}
	re, err := compileOnly(d.Only)
	d.OnlyRE = re
	return err
}

// compileOnly compiles an --only expression; empty gives nil.
func compileOnly(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("--only: %w", err)
	}
	return re, nil
}

// Strings is a repeatable string flag.
type Strings []string

func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set appends v.
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }
