// Command dnsmon-watch prints the DNS queries the dnsmon module sees.
//
//	dnsmon-watch [--json] [--device /dev/dnsmon] [--count N] [--timeout D] [--stats]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher/watch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "dnsmon-watch:", err)
		os.Exit(1)
	}
}

// run parses args and makes one library call; opts are appended to the
// flags' options (tests pass a fake device).
func run(ctx context.Context, stdout, stderr io.Writer, args []string, opts ...watch.Option) error {
	var o options.Watch
	fs := flag.NewFlagSet("dnsmon-watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dnsmon-watch [--json] [--device /dev/dnsmon] [--count N] [--timeout D] [--stats]\n\n"+
			"Prints one line per DNS query the dnsmon module sees, until interrupted.\n\nflags:")
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
	return watch.Watch(ctx, stdout, stderr, wopts...)
}
