package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/discover"
)

// runDiscover lists the kernel releases whose headers the groups'
// package indexes carry and kernels.yaml lacks, and with --write adds them.
func runDiscover(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var d options.Discover
	if err := parseFlags("discover", stderr, args, &d, options.AddDiscoverFlags); err != nil {
		return err
	}
	var opts []discover.Option
	if d.OnlyRE != nil {
		opts = append(opts, discover.WithOnly(d.OnlyRE))
	}
	f, err := matrix.Load(d.File)
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	r, err := matrix.DefaultResolver()
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	opts = append(opts, discover.WithResolver(r), discover.WithLogger(stderr))
	results, derr := discover.Discover(ctx, f, opts...)
	if results == nil && derr != nil {
		return fmt.Errorf("discover: %w", derr)
	}
	if d.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else if err := discover.Summary(stdout, results); err != nil {
		return err
	}
	if d.Write {
		n, err := discover.Write(d.File, discover.ToWrite(results))
		if err != nil {
			return fmt.Errorf("discover: %w", err)
		}
		fmt.Fprintf(stderr, "discover: added %d releases to %s\n", n, d.File)
	}
	if derr != nil {
		var n int
		for _, r := range results {
			if r.Err != nil {
				n++
			}
		}
		return fmt.Errorf("discover: %d of %d groups could not be read (errors above)", n, len(results))
	}
	return nil
}
