// Command dnsmon-watch prints the DNS queries the dnsmon module sees, and
// their answers or that none came; with --lookups, one line per lookup.
//
//	dnsmon-watch [--json] [--lookups] [--device /dev/dnsmon] [--count N] [--timeout D] [--stats]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher/watch"
)

func main() {
	cli.Main("dnsmon-watch", 0, func(ctx context.Context, stdout, stderr io.Writer, args []string) error {
		return run(ctx, stdout, stderr, args)
	})
}

// run parses args and makes one library call; opts are appended to the
// flags' options (tests pass a fake device).
func run(ctx context.Context, stdout, stderr io.Writer, args []string, opts ...watch.Option) (err error) {
	defer func() { err = explain(err) }()
	var o options.Watch
	fs := flag.NewFlagSet("dnsmon-watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dnsmon-watch [--json] [--lookups] [--device /dev/dnsmon] [--count N] [--timeout D] [--stats]\n\n"+
			"Prints one line per DNS query the dnsmon module sees, until interrupted. Each\n"+
			"query's answer follows it as an answer line, or, when none came in time, an\n"+
			"unanswered line; all three carry the lookup=N of the query. With --lookups,\n"+
			"one line per lookup instead, when it ends: its question, response code,\n"+
			"addresses and latency, a truncated UDP answer and its TCP retry as one.\n"+
			"A stub resolver's upstream query ends with \"via COMM[PID] lookup=N\", the\n"+
			"application it asked for, when dnsmon-watch can tell.\n\nflags:")
		fs.PrintDefaults()
	}
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.Validate(fs.Args()); err != nil {
		return err
	}
	wopts := append(o.Options(), opts...)
	if o.Stats {
		return watch.PrintStats(ctx, stdout, wopts...)
	}
	return watch.Watch(ctx, stdout, func(n watch.Notice) { fmt.Fprintln(stderr, noticeText(n)) }, wopts...)
}
