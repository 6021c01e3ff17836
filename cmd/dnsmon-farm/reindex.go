package main

import (
	"context"
	"fmt"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"io"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// runReindex rebuilds the per-version indexes of a repository from the
// module tags it holds, after shards published with --no-index.
func runReindex(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var r options.Reindex
	if err := parseFlags("reindex", stderr, args, &r, options.AddReindexFlags); err != nil {
		return err
	}
	// The key signs the version index; the modules it lists are signed
	// already (or listed unsigned with --include-unsigned).
	popts := []publish.Option{publish.WithLogger(stderr)}
	if r.Unsigned {
		popts = append(popts, publish.WithoutSigning())
	} else {
		k, err := signature.LoadPrivateKey(r.Key)
		if err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		popts = append(popts, publish.WithSigningKey(k))
	}
	if t := r.Expires.Time(time.Now()); !t.IsZero() {
		popts = append(popts, publish.WithExpires(t))
	}
	p, err := publish.New(ctx, r.Repo, popts...)
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
	state := "unchanged"
	if st.SerialWritten {
		state = "written"
	}
	fmt.Fprintf(stdout, "reindexed %s: versions %s, %d modules (%d indexes written, %d unchanged); version index serial %d %s\n",
		r.Repo, strings.Join(st.Versions, " "), st.Modules, st.Written, st.Unchanged, st.Serial, state)
	return nil
}
