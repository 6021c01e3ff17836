package headertree

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Plan is what one kernel's headers need.
type Plan struct {
	// Unpack are the packages unpacked into the tree, sorted by name.
	Unpack []debian.Package
	// Install are the packages the builder image must have, by name,
	// sorted: the compiler and tools the header packages depend on.
	Install []string
}

// Key names the tree: the hex SHA-256 of the unpacked packages' names,
// versions and digests, and of the layout version (2: without what
// skipper leaves out). The same packages make the same tree whatever
// kernel or group asked for them.
func (p Plan) Key() string {
	h := sha256.New()
	fmt.Fprintf(h, "headertree 2\n")
	for _, pkg := range p.Unpack {
		fmt.Fprintf(h, "%s %s %s\n", pkg.Name, pkg.Version, pkg.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Size is the sum of the unpacked packages' download sizes.
func (p Plan) Size() int64 {
	var n int64
	for _, pkg := range p.Unpack {
		n += pkg.Size
	}
	return n
}

// MissingError reports a package the index does not have.
type MissingError struct {
	// Package is the missing package's name, Constraint its version
	// constraint ("" for any), and From the package that depends on it
	// ("" for one of the roots).
	Package, Constraint, From string
}

func (e *MissingError) Error() string {
	what := e.Package
	if e.Constraint != "" {
		what += " (" + e.Constraint + ")"
	}
	if e.From != "" {
		return fmt.Sprintf("package %s, which %s depends on, is not in the package index", what, e.From)
	}
	return fmt.Sprintf("package %s is not in the package index", what)
}

// maxPackages bounds the walk: a kernel's headers are three to five
// packages, so a walk that finds more follows something it should not.
const maxPackages = 64

// Resolve walks roots and their dependencies through index. Packages that
// hold header trees (linux-headers-*, linux-*-headers-*, linux-kbuild-*,
// linux-base-VERSION)
// are unpacked; the compiler metapackages (linux-compiler-*) are replaced
// by what they depend on; kernel images and linux-base are skipped (they
// only matter to a booted kernel); every other dependency is to be
// installed. Of several versions of a package, the newest that satisfies
// the dependency is taken, as apt would.
func Resolve(index []debian.Package, roots []string) (Plan, error) {
	byName := map[string][]debian.Package{}
	for _, p := range index {
		byName[p.Name] = append(byName[p.Name], p)
	}
	type want struct{ dep, from string }
	queue := make([]want, 0, len(roots))
	for _, r := range roots {
		queue = append(queue, want{dep: r})
	}
	var plan Plan
	seen := map[string]bool{}
	install := map[string]bool{}
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		name, constraint := parseDep(w.dep)
		if seen[name] {
			continue
		}
		switch kind(name) {
		case skip:
			continue
		case other:
			install[name] = true
			continue
		}
		seen[name] = true
		p, ok := newest(byName[name], constraint)
		if !ok {
			return Plan{}, &MissingError{Package: name, Constraint: constraint, From: w.from}
		}
		if len(seen) > maxPackages {
			return Plan{}, fmt.Errorf("resolving %s: more than %d kernel packages", strings.Join(roots, " "), maxPackages)
		}
		if kind(name) == unpack {
			plan.Unpack = append(plan.Unpack, p)
		}
		for _, d := range splitDepends(p.Depends) {
			queue = append(queue, want{dep: d, from: p.Name})
		}
	}
	slices.SortFunc(plan.Unpack, func(a, b debian.Package) int { return strings.Compare(a.Name, b.Name) })
	for n := range install {
		plan.Install = append(plan.Install, n)
	}
	slices.Sort(plan.Install)
	return plan, nil
}

type pkgKind int

const (
	unpack pkgKind = iota
	metapackage
	skip
	other
)

func kind(name string) pkgKind {
	switch {
	case strings.HasPrefix(name, "linux-headers-"), strings.HasPrefix(name, "linux-kbuild-"):
		return unpack
	case strings.HasPrefix(name, "linux-") && strings.Contains(name, "-headers-"):
		// Ubuntu's headers of a kernel line or cloud flavour:
		// linux-hwe-6.8-headers-6.8.0-155, linux-aws-headers-6.8.0-1043.
		return unpack
	case strings.HasPrefix(name, "linux-base-") && len(name) > len("linux-base-") && isDigit(name[len("linux-base-")]):
		return unpack
	case strings.HasPrefix(name, "linux-compiler-"):
		return metapackage
	case strings.HasPrefix(name, "linux-image-"), name == "linux-base":
		return skip
	}
	return other
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// splitDepends returns the first alternative of each group of a Depends
// field, with its version constraint and without an architecture
// qualifier.
func splitDepends(field string) []string {
	var out []string
	for _, group := range strings.Split(field, ",") {
		alt, _, _ := strings.Cut(group, "|")
		if alt = strings.TrimSpace(alt); alt != "" {
			out = append(out, alt)
		}
	}
	return out
}

// parseDep splits "name:arch (>= 1.2)" into "name" and ">= 1.2".
func parseDep(dep string) (name, constraint string) {
	name, rest, _ := strings.Cut(strings.TrimSpace(dep), "(")
	name = strings.TrimSpace(name)
	if i := strings.IndexAny(name, " ["); i >= 0 {
		name = name[:i]
	}
	name, _, _ = strings.Cut(name, ":")
	constraint, _, _ = strings.Cut(rest, ")")
	return name, strings.Join(strings.Fields(constraint), " ")
}

// newest returns the newest of pkgs that satisfies constraint.
func newest(pkgs []debian.Package, constraint string) (debian.Package, bool) {
	var best debian.Package
	found := false
	for _, p := range pkgs {
		if !satisfies(p.Version, constraint) {
			continue
		}
		if !found || debian.CompareVersions(p.Version, best.Version) > 0 {
			best, found = p, true
		}
	}
	return best, found
}

// satisfies reports whether version v meets a Debian relation such as
// ">= 6.1.158-1"; an empty or unreadable relation is met by every version.
func satisfies(v, constraint string) bool {
	op, want, ok := strings.Cut(constraint, " ")
	if !ok {
		return true
	}
	c := debian.CompareVersions(v, want)
	switch op {
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">>":
		return c > 0
	case "<<":
		return c < 0
	}
	return true
}
