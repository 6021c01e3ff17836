package builder

import (
	"context"
	"fmt"

	"github.com/dnsmon/dnsmon/matrix"
)

// Cached returns a Builder that skips targets whose module p already has
// and publishes what it builds. A skipped build returns a Module with
// Cached set and no Data, and the build's Log when p keeps logs
// (DirPublisher does).
func Cached(b Builder, p Publisher) Builder {
	return &cached{b: b, p: p}
}

// logKeeper is a Publisher that keeps each module's build log.
type logKeeper interface {
	BuildLog(ctx context.Context, key Key) ([]byte, error)
}

type cached struct {
	b Builder
	p Publisher
}

var _ Builder = (*cached)(nil)

func (c *cached) Key(ctx context.Context, t matrix.Target) (Key, error) { return c.b.Key(ctx, t) }

func (c *cached) Build(ctx context.Context, t matrix.Target) (Module, error) {
	key, err := c.b.Key(ctx, t)
	if err != nil {
		return Module{}, err
	}
	has, err := c.p.Has(ctx, key)
	if err != nil {
		return Module{}, fmt.Errorf("checking the cache for %q: %w", t.Name(), err)
	}
	if has {
		m := Module{Key: key, Target: t, Cached: true}
		if lk, ok := c.p.(logKeeper); ok {
			if m.Log, err = lk.BuildLog(ctx, key); err != nil {
				return Module{}, fmt.Errorf("reading the cached build of %q: %w", t.Name(), err)
			}
		}
		return m, nil
	}
	m, err := c.b.Build(ctx, t)
	if err != nil {
		return m, err
	}
	if err := c.p.Publish(ctx, m); err != nil {
		return m, fmt.Errorf("publishing %q: %w", t.Name(), err)
	}
	return m, nil
}

// Limit returns a Builder that runs at most n builds of b at a time.
func Limit(b Builder, n int) Builder {
	if n < 1 {
		n = 1
	}
	return &limit{b: b, sem: make(chan struct{}, n)}
}

type limit struct {
	b   Builder
	sem chan struct{}
}

var _ Builder = (*limit)(nil)

func (l *limit) Key(ctx context.Context, t matrix.Target) (Key, error) { return l.b.Key(ctx, t) }

func (l *limit) Build(ctx context.Context, t matrix.Target) (Module, error) {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return Module{}, ctx.Err()
	}
	defer func() { <-l.sem }()
	return l.b.Build(ctx, t)
}
