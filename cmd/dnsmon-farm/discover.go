package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/discover"
)

// runDiscover lists the kernel releases whose headers the groups'
// package indexes carry and kernels.yaml lacks, and with --write adds them.
func runDiscover(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", options.DefaultKernelsFile, "kernels file")
	only := fs.String("only", "", "discover only groups whose name matches this regular expression")
	write := fs.Bool("write", false, "add the new releases of pinned groups to the kernels file (atomically, keeping comments)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("discover: unexpected arguments %q", fs.Args())
	}
	var opts []discover.Option
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("discover: --only: %w", err)
		}
		opts = append(opts, discover.WithOnly(re))
	}
	f, err := matrix.Load(*file)
	if err != nil {
		return fmt.Errorf("discover: %w", err)
	}
	results, derr := discover.Discover(ctx, f, append(opts, discover.WithLogger(stderr))...)
	if results == nil && derr != nil {
		return fmt.Errorf("discover: %w", derr)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else if err := discover.Summary(stdout, results); err != nil {
		return err
	}
	if *write {
		n, err := discover.Write(*file, discover.ToWrite(results))
		if err != nil {
			return fmt.Errorf("discover: %w", err)
		}
		fmt.Fprintf(stderr, "discover: added %d releases to %s\n", n, *file)
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
