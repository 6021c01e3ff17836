package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dnsmon/dnsmon/builder/publish"
)

// runReindex rebuilds the per-version indexes of a repository from the
// module tags it holds, after shards published with --no-index.
func runReindex(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", "", "repository to reindex: REGISTRY/REPO or oci-layout:DIR")
	var versions multiFlag
	fs.Var(&versions, "version", "module version whose index to rebuild (repeatable; default: every version with module tags)")
	unsigned := fs.Bool("include-unsigned", false, "also list modules that have no signature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("reindex: unexpected arguments %q", fs.Args())
	case *repo == "":
		return errors.New("reindex: --repo is required")
	}
	// Reindexing signs nothing: it lists what is signed already.
	p, err := publish.New(ctx, *repo, publish.WithoutSigning(), publish.WithLogger(stderr))
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer p.Close()
	st, err := p.Reindex(ctx, publish.ReindexOptions{Versions: versions, IncludeUnsigned: *unsigned})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	for _, s := range st.Skipped {
		fmt.Fprintf(stderr, "reindex: skipped %s\n", s)
	}
	fmt.Fprintf(stdout, "reindexed %s: versions %s, %d modules (%d indexes written, %d unchanged)\n",
		*repo, strings.Join(st.Versions, " "), st.Modules, st.Written, st.Unchanged)
	return nil
}
