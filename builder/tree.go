package builder

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/mount"

	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// ToolchainRepo is the repository of the images that add a kernel's
// compiler to a base image.
const ToolchainRepo = "dnsmon-toolchain"

// UsesTree reports whether t builds against a header tree unpacked by the
// Go side (the apt families' apt-extract method) rather than in a headers
// image made by a script.
func UsesTree(t matrix.Target) bool {
	return t.Family == matrix.FamilyDeb && t.Method == matrix.MethodAptExtract && t.Debootstrap != nil
}

// TreePlan is how a target's header tree is found: from the package
// indexes, or, once they no longer list the kernel's packages, from the
// record of the tree they resolved to before.
type TreePlan struct {
	// Origin is what the tree is resolved from: t's indexes and packages.
	Origin headertree.Origin
	// Plan is what the indexes give; zero when Gone is set.
	Plan headertree.Plan
	// Key names the tree; Install is what the builder image must have.
	Key     string
	Install []string
	// Gone is set when the indexes no longer list the kernel's packages
	// and the store holds the tree recorded for Origin: Key and Install
	// then come from that record.
	Gone *headertree.MissingError
}

// HeaderOrigin is what t's header tree is resolved from: the indexes its
// image would list and its header packages.
func HeaderOrigin(t matrix.Target) (headertree.Origin, error) {
	idx, err := treeIndexes(t)
	if err != nil {
		return headertree.Origin{}, err
	}
	return originOf(t, idx), nil
}

// treeIndexes are the indexes t's header packages are resolved in: its
// own architecture's, and for a cross-compiled target then the farm
// architecture's, which give the kbuild programs.
func treeIndexes(t matrix.Target) ([]matrix.PackageIndex, error) {
	idx, err := t.HeaderIndexes()
	if err != nil || !isCross(t) {
		return idx, err
	}
	ft := t
	ft.Arch = farmArch
	fidx, err := ft.HeaderIndexes()
	if err != nil {
		return nil, err
	}
	return append(idx, fidx...), nil
}

func originOf(t matrix.Target, idx []matrix.PackageIndex) headertree.Origin {
	o := headertree.Origin{Roots: slices.Clone(t.Packages)}
	for _, ix := range idx {
		o.Indexes = append(o.Indexes, ix.String())
	}
	return o
}

// PlanTree resolves t's header packages in the indexes its image would
// list, each checked against its suite's signed InRelease. Debian drops a
// superseded kernel's packages from its mirror within days: when the
// indexes lack them, PlanTree returns the tree s recorded for the same
// indexes and packages (TreePlan.Gone set) if s still has it, and the
// *headertree.MissingError otherwise.
func PlanTree(ctx context.Context, c *debian.Client, s *headertree.Store, t matrix.Target) (TreePlan, error) {
	idx, err := treeIndexes(t)
	if err != nil {
		return TreePlan{}, err
	}
	origin := originOf(t, idx)
	cross, targetArch := isCross(t), idx[0].Arch
	var all []debian.Package
	for _, ix := range idx {
		for _, comp := range ix.Components {
			pkgs, err := c.Packages(ctx, ix.DebSuite(comp))
			if err != nil {
				return TreePlan{}, fmt.Errorf("reading the package index %s: %w", ix, err)
			}
			// A cross-compiled target's kbuild programs come from the
			// farm architecture's indexes, everything else from the
			// target architecture's.
			farmIndex := ix.Arch != targetArch
			for _, p := range pkgs {
				if cross && strings.HasPrefix(p.Name, "linux-kbuild-") != farmIndex {
					continue
				}
				all = append(all, p)
			}
		}
	}
	plan, err := headertree.Resolve(all, t.Packages)
	var missing *headertree.MissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return TreePlan{}, err
		}
		return TreePlan{Origin: origin, Plan: plan, Key: plan.Key(), Install: plan.Install}, nil
	}
	rec, ok, rerr := s.LookupOrigin(origin)
	if rerr != nil {
		return TreePlan{}, errors.Join(err, rerr)
	}
	if !ok || !s.Has(rec.Tree) {
		return TreePlan{}, fmt.Errorf("%w, and no header tree of it is kept in the cache", err)
	}
	return TreePlan{Origin: origin, Key: rec.Tree, Install: rec.Install, Gone: missing}, nil
}

// Use returns p's tree from s, making it when the indexes gave p, and
// holds it until release is called (see headertree.Store.Use). A tree
// made or used from the indexes is recorded for p.Origin.
func (p TreePlan) Use(ctx context.Context, s *headertree.Store) (tree headertree.Tree, release func(), err error) {
	if p.Gone != nil {
		return s.UseKey(ctx, p.Key)
	}
	tree, release, err = s.Use(ctx, p.Plan)
	if err != nil {
		return headertree.Tree{}, nil, err
	}
	if err := s.RecordOrigin(p.Origin, p.Plan); err != nil {
		release()
		return headertree.Tree{}, nil, err
	}
	return tree, release, nil
}

// toolchainImage returns the image t builds in: its base image when that
// has every package the headers need, else the base image with them
// installed, made once per base and package set.
func (e *engine) toolchainImage(ctx context.Context, t matrix.Target, install []string) (string, error) {
	if err := e.ensureBase(ctx, t); err != nil {
		return "", err
	}
	base := BaseImage(t)
	var missing []string
	for _, p := range install {
		if !slices.Contains(t.Debootstrap.Include, p) && !slices.Contains(t.Toolchain, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return base, nil
	}
	ref := ToolchainImage(t, missing)
	err := e.ensureImage(ctx, ref, func(ctx context.Context) error {
		return e.commitImage(ctx, imageJob{from: base, tag: ref, script: headersDebScript,
			env: toolchainEnv(t, missing), what: "toolchain " + strings.Join(missing, " "),
			labels: map[string]string{"dev.dnsmon.toolchain": strings.Join(missing, " ")}})
	})
	return ref, err
}

// toolchainEnv is the headers script's environment that installs packages
// from t's sources and nothing else: no kernel's packages, so every kernel
// of a suite that needs the same compiler shares the image.
func toolchainEnv(t matrix.Target, packages []string) []string {
	env := []string{"DNSMON_METHOD=none", "DNSMON_TOOLCHAIN=" + strings.Join(packages, " ")}
	for _, kv := range headersEnv(t) {
		if strings.HasPrefix(kv, "DNSMON_SOURCES=") || strings.HasPrefix(kv, "DNSMON_REPLACE=") {
			env = append(env, kv)
		}
	}
	return env
}

// ToolchainImage is the tag of the image that adds packages to t's base
// image: "dnsmon-toolchain:SUITE-HASH12", HASH12 covering the base recipe,
// the packages and the sources they come from.
func ToolchainImage(t matrix.Target, packages []string) string {
	h := hashJSON(struct {
		Base     string   `json:"base"`
		Packages []string `json:"packages"`
		Env      []string `json:"env"`
		Script   string   `json:"script"`
	}{BaseImage(t), packages, toolchainEnv(t, packages), headersDebScript})
	return ToolchainRepo + ":" + tagSafe(t.Debootstrap.Suite) + "-" + h[:12]
}

// buildFromTree builds t in its toolchain image with its header tree
// bind-mounted read-only: no package manager runs on this path.
func (e *engine) buildFromTree(ctx context.Context, t matrix.Target) (Module, error) {
	start := time.Now()
	plan, err := PlanTree(ctx, e.pkgs, e.trees, t)
	if err != nil {
		return Module{}, targetError(t, "resolving the headers of", err)
	}
	if plan.Gone != nil {
		fmt.Fprintf(e.o.log, "%s: the kernel's header packages are gone from the mirror (%v): building against the header tree %s kept in the cache\n",
			t.Name(), plan.Gone, plan.Key[:12])
	}
	tree, release, err := plan.Use(ctx, e.trees)
	if err != nil {
		return Module{}, targetError(t, "preparing the headers of", err)
	}
	defer release()
	binds, err := tree.Binds()
	if err != nil {
		return Module{}, targetError(t, "preparing the headers of", err)
	}
	install := plan.Install
	var env []string
	cc, ok, err := readKernelCompiler(tree.Dir, filepath.Join(strings.TrimPrefix(t.KernelDir, "/"), ".config"))
	if err != nil {
		return Module{}, targetError(t, "preparing the headers of", err)
	}
	if isCross(t) {
		var cross []string
		if cross, cc, err = crossEnv(t, cc); err != nil {
			return Module{}, targetError(t, "preparing the build of", err)
		}
		env, ok = cross, true
	}
	if ok {
		env = append(env, "DNSMON_CC="+cc.Program)
		if !slices.Contains(install, cc.Package) {
			install = append(slices.Clone(install), cc.Package)
			slices.Sort(install)
		}
	}
	img, err := e.toolchainImage(ctx, t, install)
	if err != nil {
		return Module{}, err
	}
	fmt.Fprintf(e.o.log, "%s: headers %s ready in %s\n", t.Name(), tree.Key[:12], time.Since(start).Round(10*time.Millisecond))
	mounts := make([]mount.Mount, 0, len(binds))
	for _, b := range binds {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: b.Source, Target: b.Target, ReadOnly: true})
	}
	m, err := e.run(ctx, t, img, BaseImage(t), mounts, env)
	m.HeaderBinds = binds
	return m, err
}
