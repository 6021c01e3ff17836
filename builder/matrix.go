package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"

	"github.com/dnsmon/dnsmon/matrix"
)

// MatrixBuild is one `dnsmon-farm build` run.
type MatrixBuild struct {
	// File is the kernels.yaml path.
	File string
	// Only keeps the targets whose name (GROUP/KERNEL) matches; nil keeps all.
	Only *regexp.Regexp
	// RunnerArch, when set, keeps the targets RunnerArch places on a
	// machine of that architecture, as `dnsmon-farm plan` does.
	RunnerArch string
	// Shard and Shards select shard Shard (0-based) of Shards, cut after
	// RunnerArch selects; Shards 0 means no sharding.
	Shard, Shards int
	// Resolver resolves tracked groups; nil uses matrix.DefaultResolver.
	Resolver matrix.Resolver
	// Publisher receives the modules and answers the cache lookups.
	Publisher Publisher
	// Options configure the engine builder; FarmOptions the farm.
	Options     []Option
	FarmOptions []FarmOption
	// Summary receives the results table; nil discards it.
	Summary io.Writer
}

// DurationsFile, in the builder's cache directory, holds the last build
// time of each target; BuildMatrix starts the longest first (WithDurations).
const DurationsFile = "farm-durations.json"

// BuildMatrix loads, resolves, filters and shards the targets of a kernels
// file, builds them through the cache of m.Publisher, longest first by
// the last run's times, and writes the summary. Its error is Run's.
func BuildMatrix(ctx context.Context, m MatrixBuild) ([]Result, error) {
	r := m.Resolver
	if r == nil {
		var err error
		if r, err = matrix.DefaultResolver(); err != nil {
			return nil, err
		}
	}
	targets, err := matrix.LoadTargetsMatching(ctx, m.File, r, m.Only)
	if err != nil {
		return nil, err
	}
	targets = matrix.Filter(targets, m.Only)
	if m.RunnerArch != "" {
		targets = matrix.OnArch(targets, m.RunnerArch, RunnerArch)
	}
	if m.Shards > 0 {
		if targets, err = matrix.Shard(targets, m.Shard, m.Shards); err != nil {
			return nil, err
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no targets selected from %s", m.File)
	}
	return m.build(ctx, targets)
}

// build is one farm run over targets. It leaves nothing behind on the
// engine: it starts by removing the containers of farms that are gone and
// the farm's dangling images, each build removes its own container, and
// the dangling images are removed again at the end, also after ctx was
// cancelled.
func (m MatrixBuild) build(ctx context.Context, targets []matrix.Target) ([]Result, error) {
	o, err := makeOptions(m.Options)
	if err != nil {
		return nil, err
	}
	if n, err := ReapDead(ctx, o.client); err != nil {
		return nil, err
	} else if n > 0 {
		fmt.Fprintf(o.log, "removed %d builder containers left by farms that are gone\n", n)
	}
	if n, err := RemoveDangling(ctx, o.client); err != nil {
		return nil, err
	} else if n > 0 {
		fmt.Fprintf(o.log, "removed %d dangling builder images\n", n)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		// The modules are built and published by now: a failure here is
		// reported, and the next run's sweep tries again.
		if n, err := RemoveDangling(ctx, o.client); err != nil {
			fmt.Fprintf(o.log, "warning: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(o.log, "removed %d dangling builder images\n", n)
		}
	}()
	b, err := New(append(m.Options, WithClient(o.client))...)
	if err != nil {
		return nil, err
	}
	farmOpts := append([]FarmOption{WithDurations(filepath.Join(o.cacheDir, DurationsFile))}, m.FarmOptions...)
	results, err := Run(ctx, Cached(b, m.Publisher), targets, farmOpts...)
	if m.Summary == nil {
		return results, err
	}
	if serr := WriteSummary(m.Summary, results); serr != nil && err == nil {
		return results, serr
	}
	if errors.Is(err, ErrFailed) {
		// The summary already shows each failure; keep the error short.
		failed := 0
		for _, r := range results {
			if r.Status() == "failed" {
				failed++
			}
		}
		return results, fmt.Errorf("%w: %d of %d (see above)", ErrFailed, failed, len(results))
	}
	return results, err
}
