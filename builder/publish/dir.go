package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/matrix"
)

// DirStats counts what Dir did.
type DirStats struct {
	Published, Skipped int
}

// Dir publishes every module a builder.DirPublisher wrote under dir
// (ARCH/KERNEL/MODULE.ko with MODULE.json beside it), skipping those the
// publisher already has. A module whose .ko does not match its record's
// digest is an error.
func Dir(ctx context.Context, dir string, p builder.Publisher) (DirStats, error) {
	var st DirStats
	recs, err := filepath.Glob(filepath.Join(dir, "*", "*", "*.json"))
	if err != nil {
		return st, fmt.Errorf("listing %s: %w", dir, err)
	}
	if len(recs) == 0 {
		return st, fmt.Errorf("no module records (ARCH/KERNEL/MODULE.json) under %s", dir)
	}
	for _, rp := range recs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		b, err := os.ReadFile(rp)
		if err != nil {
			return st, fmt.Errorf("reading %s: %w", rp, err)
		}
		var rec builder.DirRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return st, fmt.Errorf("reading %s: %w", rp, err)
		}
		ko, err := os.ReadFile(strings.TrimSuffix(rp, ".json") + ".ko")
		if err != nil {
			return st, fmt.Errorf("reading module of %s: %w", rp, err)
		}
		if got := artifact.Digest(ko).String(); got != rec.Digest {
			return st, fmt.Errorf("module of %s hashes to %s, the record says %s", rp, got, rec.Digest)
		}
		has, err := p.Has(ctx, rec.Key)
		if err != nil {
			return st, err
		}
		if has {
			st.Skipped++
			continue
		}
		cert, err := builder.ReadDirCert(dir, rec.Key)
		if err != nil {
			return st, err
		}
		m := builder.Module{Key: rec.Key, Data: ko, SigningCert: cert, BuilderImage: rec.BuilderImage, BaseImage: rec.BaseImage, Created: rec.Created,
			Target: matrix.Target{Group: rec.Group, Distro: rec.Distro, Kernel: rec.Key.Kernel, Arch: rec.Key.Arch}}
		if err := p.Publish(ctx, m); err != nil {
			return st, err
		}
		st.Published++
	}
	return st, nil
}
