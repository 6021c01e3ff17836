package matrix

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Shard returns shard i (0-based) of n: the targets are ordered by Name and
// cut into n contiguous runs whose sizes differ by at most one, so a group's
// kernels mostly share a shard (and its base image). The result depends only
// on the set of target names, not on their order.
func Shard(targets []Target, i, n int) ([]Target, error) {
	if n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("shard %d of %d: want 0 <= index < count", i, n)
	}
	sorted := slices.Clone(targets)
	slices.SortStableFunc(sorted, func(a, b Target) int { return strings.Compare(a.Name(), b.Name()) })
	lo, hi := i*len(sorted)/n, (i+1)*len(sorted)/n
	return sorted[lo:hi], nil
}

// Plan is the shard matrix for a GitHub Actions job: `strategy.matrix:
// ${{ fromJSON(needs.plan.outputs.matrix) }}`.
type Plan struct {
	// Include has one entry per shard.
	Include []PlanShard `json:"include"`
}

// PlanShard is one matrix entry.
type PlanShard struct {
	// Arch is the --runner-arch argument: the architecture of the machine
	// the shard builds on (Go spelling).
	Arch string `json:"arch"`
	// Shard is the --shard argument, "I/N" with I counted from 1: shard I
	// of the N the targets of Arch are cut into.
	Shard string `json:"shard"`
	// Count is the number of targets in the shard.
	Count int `json:"count"`
	// Targets are the target names, for display.
	Targets []string `json:"targets"`
}

// OnArch returns the targets that runsOn places on a machine of arch.
func OnArch(targets []Target, arch string, runsOn func(Target) string) []Target {
	var out []Target
	for _, t := range targets {
		if runsOn(t) == arch {
			out = append(out, t)
		}
	}
	return out
}

// MakePlan splits targets by the architecture of the machine runsOn says
// each builds on, and the targets of each architecture into n shards.
// Shards that would be empty (more shards than targets) are left out, so
// no CI job starts for nothing.
func MakePlan(targets []Target, n int, runsOn func(Target) string) (Plan, error) {
	if n < 1 {
		return Plan{}, fmt.Errorf("planning %d shards: want at least 1", n)
	}
	var arches []string
	for _, t := range targets {
		if a := runsOn(t); !slices.Contains(arches, a) {
			arches = append(arches, a)
		}
	}
	slices.Sort(arches)
	p := Plan{Include: []PlanShard{}}
	for _, arch := range arches {
		on := OnArch(targets, arch, runsOn)
		for i := range n {
			ts, err := Shard(on, i, n)
			if err != nil {
				return Plan{}, err
			}
			if len(ts) == 0 {
				continue
			}
			s := PlanShard{Arch: arch, Shard: fmt.Sprintf("%d/%d", i+1, n), Count: len(ts), Targets: []string{}}
			for _, t := range ts {
				s.Targets = append(s.Targets, t.Name())
			}
			p.Include = append(p.Include, s)
		}
	}
	return p, nil
}

// PlanFile loads a kernels file, resolves and expands it, keeps the targets
// matching only (nil keeps all) and plans them (MakePlan).
func PlanFile(ctx context.Context, path string, only *regexp.Regexp, n int, r Resolver, runsOn func(Target) string) (Plan, error) {
	ts, err := LoadTargets(ctx, path, r)
	if err != nil {
		return Plan{}, err
	}
	return MakePlan(Filter(ts, only), n, runsOn)
}
