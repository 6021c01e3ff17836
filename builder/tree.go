package builder

import (
	"context"
	"fmt"
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

// usesTree reports whether t builds against a header tree unpacked by the
// Go side (the apt families' apt-extract method) rather than in a headers
// image made by a script.
func usesTree(t matrix.Target) bool {
	return t.Family == matrix.FamilyDeb && t.Method == matrix.MethodAptExtract && t.Debootstrap != nil
}

// headersPlan resolves t's header packages in the indexes its image would
// list, each checked against its suite's signed InRelease.
func (e *engine) headersPlan(ctx context.Context, t matrix.Target) (headertree.Plan, error) {
	idx, err := t.HeaderIndexes()
	if err != nil {
		return headertree.Plan{}, err
	}
	var all []debian.Package
	for _, ix := range idx {
		for _, comp := range ix.Components {
			pkgs, err := e.pkgs.Packages(ctx, debian.Suite{Name: ix.Suite, BaseURL: ix.URL, Component: comp, Arch: ix.Arch})
			if err != nil {
				return headertree.Plan{}, fmt.Errorf("reading the package index %s: %w", ix, err)
			}
			all = append(all, pkgs...)
		}
	}
	plan, err := headertree.Resolve(all, t.Packages)
	if err != nil {
		return headertree.Plan{}, err
	}
	return plan, nil
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
	plan, err := e.headersPlan(ctx, t)
	if err != nil {
		return Module{}, targetError(t, "resolving the headers of", err)
	}
	img, err := e.toolchainImage(ctx, t, plan.Install)
	if err != nil {
		return Module{}, err
	}
	tree, release, err := e.trees.Use(ctx, plan)
	if err != nil {
		return Module{}, targetError(t, "preparing the headers of", err)
	}
	defer release()
	binds, err := tree.Binds()
	if err != nil {
		return Module{}, targetError(t, "preparing the headers of", err)
	}
	fmt.Fprintf(e.o.log, "%s: headers %s ready in %s\n", t.Name(), tree.Key[:12], time.Since(start).Round(10*time.Millisecond))
	mounts := make([]mount.Mount, 0, len(binds))
	for _, b := range binds {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: b.Source, Target: b.Target, ReadOnly: true})
	}
	m, err := e.run(ctx, t, img, BaseImage(t), mounts)
	m.HeaderBinds = binds
	return m, err
}
