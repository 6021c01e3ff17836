// Command dnsmon-farm builds the dnsmon module for every kernel in
// kernels.yaml, publishes the modules as signed OCI artifacts and writes
// offline bundles.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
)

// verb is one subcommand: run parses its own flags from args.
type verb struct {
	summary string
	run     func(ctx context.Context, stdout, stderr io.Writer, args []string) error
}

func verbs() map[string]verb {
	return map[string]verb{
		"build":    {"build modules for the targets of kernels.yaml", runBuild},
		"plan":     {"print the shard matrix of kernels.yaml as JSON", runPlan},
		"keygen":   {"make a signing key pair (dnsmon.key, dnsmon.pub)", runKeygen},
		"publish":  {"publish built modules as signed OCI artifacts", runPublish},
		"bundle":   {"write an offline bundle (.tar.zst of an OCI layout)", runBundle},
		"discover": {"list (--write: add) kernels whose headers the distributions publish", runDiscover},
		"reindex":  {"rebuild the per-version indexes of a repository from its module tags", runReindex},
		"prune":    {"remove header trees, packages and builder images not used recently", runPrune},
	}
}

func main() { cli.Main("dnsmon-farm", 1, run) }

func run(ctx context.Context, stdout, stderr io.Writer, args []string) (err error) {
	defer func() { err = explain(err) }()
	vs := verbs()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, vs)
		if len(args) == 0 {
			return errors.New("missing verb")
		}
		return nil
	}
	v, ok := vs[args[0]]
	if !ok {
		usage(stderr, vs)
		return fmt.Errorf("unknown verb %q", args[0])
	}
	return v.run(ctx, stdout, stderr, args[1:])
}

func usage(w io.Writer, vs map[string]verb) {
	names := make([]string, 0, len(vs))
	for n := range vs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: dnsmon-farm VERB [flags]\n\nverbs:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, vs[n].summary)
	}
}
