package options

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// DefaultKernelsFile is the kernels file dnsmon-farm reads by default.
const DefaultKernelsFile = "kernels.yaml"

// DefaultFarmDest is where dnsmon-farm build publishes by default.
const DefaultFarmDest = "oci-layout:out"

// DirDestPrefix selects the plain directory publisher ("dir:DIR").
const DirDestPrefix = "dir:"

// CacheDest selects the module cache (builder.ModuleCache): plain .ko
// files with their build logs, where the guest tests look before they build.
const CacheDest = "cache"

// FarmBuild holds the flags of `dnsmon-farm build`.
type FarmBuild struct {
	// File is the kernels file.
	File string
	// Only is a regular expression over target names (GROUP/KERNEL).
	Only string
	// Jobs is how many targets build at once.
	Jobs int
	// To is the destination: REGISTRY/REPO, oci-layout:DIR, dir:DIR or
	// cache.
	To string
	// Key is the signing key for registry and oci-layout destinations.
	Key string
	// Unsigned publishes without signatures (tests only).
	Unsigned bool
	// RunnerArch keeps the targets a publication builds on a machine of
	// this architecture (dnsmon-farm plan's "arch"); empty keeps all.
	RunnerArch string
	// Shard is "I/N" (I from 1 to N), empty for all targets.
	Shard string
	// LogDir keeps each target's build log; empty keeps none on disk.
	LogDir string
	// NoIndex publishes without updating the per-version index, for
	// parallel shards; `dnsmon-farm reindex` writes it afterwards.
	NoIndex bool
	// ModuleKey and ModuleCert are the module signing key and certificate
	// (dnsmon-farm keygen --module-signing); the farm signs every module
	// with them for Secure Boot. Both empty: modules are not signed.
	ModuleKey, ModuleCert string
	// Expires is when hosts stop accepting the version index written.
	Expires Expires

	// OnlyRE, ShardIndex (0-based) and ShardCount are set by Validate.
	OnlyRE                 *regexp.Regexp
	ShardIndex, ShardCount int
}

// AddFarmBuildFlags registers the flags of `dnsmon-farm build` on fs.
func AddFarmBuildFlags(fs *flag.FlagSet, b *FarmBuild) {
	fs.StringVar(&b.File, "f", DefaultKernelsFile, "kernels file")
	fs.StringVar(&b.Only, "only", "", "build only targets whose GROUP/KERNEL name matches this regular expression")
	fs.IntVar(&b.Jobs, "j", runtime.NumCPU(), "targets to build at once")
	fs.StringVar(&b.To, "to", DefaultFarmDest, "destination: REGISTRY/REPO, oci-layout:DIR, dir:DIR (plain .ko files, unsigned), or cache (the module cache under $DNSMON_CACHE/modules that the guest tests share, unsigned)")
	fs.StringVar(&b.Key, "key", "dnsmon.key", "signing key (from dnsmon-farm keygen) for registry and oci-layout destinations")
	fs.BoolVar(&b.Unsigned, "unsigned", false, "publish without signatures (dnsmon-fetch then needs --insecure-skip-verify)")
	fs.StringVar(&b.RunnerArch, "runner-arch", "", "build only the targets dnsmon-farm plan places on a machine of this architecture (amd64: every header-tree target, cross-compiled or not; arm64: the arm64 targets built in their own image)")
	fs.StringVar(&b.Shard, "shard", "", "build only shard I of N (\"I/N\", I from 1), as planned by dnsmon-farm plan (with its --runner-arch)")
	fs.StringVar(&b.LogDir, "logs", "", "directory to keep each target's build log in (default: none)")
	fs.BoolVar(&b.NoIndex, "no-index", false, "do not update the per-version index (parallel shards); run dnsmon-farm reindex afterwards")
	fs.StringVar(&b.ModuleKey, "module-key", "", "module signing key (dnsmon-farm keygen --module-signing): sign every module for Secure Boot (default: modules are not signed)")
	addExpiresFlag(fs, &b.Expires)
	fs.StringVar(&b.ModuleCert, "module-cert", "", "module signing certificate (PEM or DER) matching --module-key; published with the modules")
}

// Validate checks the flags and fills in the parsed fields.
func (b *FarmBuild) Validate() error {
	var errs []error
	if b.File == "" {
		errs = append(errs, errors.New("-f: empty kernels file"))
	}
	if b.Jobs < 1 {
		errs = append(errs, fmt.Errorf("-j %d: want at least 1", b.Jobs))
	}
	re, err := compileOnly(b.Only)
	if err != nil {
		errs = append(errs, err)
	}
	b.OnlyRE = re
	switch b.RunnerArch {
	case "", "amd64", "arm64":
	default:
		errs = append(errs, fmt.Errorf("--runner-arch %q: want amd64 or arm64 (the arch of a shard of dnsmon-farm plan)", b.RunnerArch))
	}
	if b.Shard != "" {
		i, n, err := ParseShard(b.Shard)
		if err != nil {
			errs = append(errs, err)
		}
		b.ShardIndex, b.ShardCount = i, n
	}
	switch {
	case b.To == "":
		errs = append(errs, errors.New("--to: empty destination"))
	case b.To == DirDestPrefix:
		errs = append(errs, errors.New("--to dir: needs a directory"))
	case b.Unsigned && b.plain():
		errs = append(errs, errors.New("--unsigned: dir and cache destinations are never signed"))
	case b.NoIndex && b.plain():
		errs = append(errs, errors.New("--no-index: dir and cache destinations have no index"))
	case b.ModuleKey != "" && b.To == CacheDest:
		errs = append(errs, errors.New("--module-key: the module cache keeps unsigned modules; build signed ones --to dir:DIR or to a registry"))
	}
	if err := b.Expires.check(time.Now()); err != nil {
		errs = append(errs, err)
	}
	if (b.ModuleKey == "") != (b.ModuleCert == "") {
		errs = append(errs, errors.New("--module-key and --module-cert go together"))
	}
	return errors.Join(errs...)
}

// plain reports whether the destination is a directory of .ko files.
func (b *FarmBuild) plain() bool {
	return strings.HasPrefix(b.To, DirDestPrefix) || b.To == CacheDest
}

// ParseShard parses "I/N" (1 <= I <= N) into a 0-based index and a count.
func ParseShard(s string) (index, count int, err error) {
	is, ns, ok := strings.Cut(s, "/")
	i, ierr := strconv.Atoi(is)
	n, nerr := strconv.Atoi(ns)
	if !ok || ierr != nil || nerr != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N", s)
	}
	return i - 1, n, nil
}

// FarmPlan holds the flags of `dnsmon-farm plan`.
type FarmPlan struct {
	// File is the kernels file.
	File string
	// Only is a regular expression over target names.
	Only string
	// Shards is the number of shards.
	Shards int

	// OnlyRE is set by Validate.
	OnlyRE *regexp.Regexp
}

// AddFarmPlanFlags registers the flags of `dnsmon-farm plan` on fs.
func AddFarmPlanFlags(fs *flag.FlagSet, p *FarmPlan) {
	fs.StringVar(&p.File, "f", DefaultKernelsFile, "kernels file")
	fs.StringVar(&p.Only, "only", "", "plan only targets whose GROUP/KERNEL name matches this regular expression")
	fs.IntVar(&p.Shards, "shards", 1, "number of shards (CI jobs)")
}

// Validate checks the flags.
func (p *FarmPlan) Validate() error {
	var errs []error
	if p.File == "" {
		errs = append(errs, errors.New("-f: empty kernels file"))
	}
	if p.Shards < 1 || p.Shards > 256 {
		errs = append(errs, fmt.Errorf("--shards %d: want 1..256", p.Shards))
	}
	re, err := compileOnly(p.Only)
	if err != nil {
		errs = append(errs, err)
	}
	p.OnlyRE = re
	return errors.Join(errs...)
}
