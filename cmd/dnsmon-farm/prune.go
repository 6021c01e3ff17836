package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/builder/cache"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
)

// runPrune removes the header trees, downloaded packages and builder
// images that builds have not used recently, least recently used first.
func runPrune(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var p options.Prune
	if err := parseFlags("prune", stderr, args, &p, options.AddPruneFlags); err != nil {
		return err
	}
	opts := []cache.Option{cache.WithLog(stdout), cache.WithDryRun(p.DryRun)}
	if p.HasMaxAge {
		opts = append(opts, cache.WithMaxAge(p.MaxAge))
	}
	if p.HasMaxBytes {
		opts = append(opts, cache.WithMaxSize(p.MaxBytes))
	}
	rep, err := cache.Prune(ctx, p.File, opts...)
	if err != nil {
		// What was removed before the failure is on the lines above.
		return fmt.Errorf("prune: %w", err)
	}
	fmt.Fprintln(stdout, rep)
	return nil
}
