package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"io"
	"strings"

	"github.com/dnsmon/dnsmon/builder/publish"
)

// runReindex rebuilds the per-version indexes of a repository from the
// module tags it holds, after shards published with --no-index.
func runReindex(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var r options.Reindex
	options.AddReindexFlags(fs, &r)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reindex: unexpected arguments %q", fs.Args())
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	// Reindexing signs nothing: it lists what is signed already.
	p, err := publish.New(ctx, r.Repo, publish.WithoutSigning(), publish.WithLogger(stderr))
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer p.Close()
	st, err := p.Reindex(ctx, publish.ReindexOptions{Versions: r.Versions, IncludeUnsigned: r.IncludeUnsigned})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	for _, s := range st.Skipped {
		fmt.Fprintf(stderr, "reindex: skipped %s\n", s)
	}
	fmt.Fprintf(stdout, "reindexed %s: versions %s, %d modules (%d indexes written, %d unchanged)\n",
		r.Repo, strings.Join(st.Versions, " "), st.Modules, st.Written, st.Unchanged)
	return nil
}
