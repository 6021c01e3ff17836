package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"io"
	"time"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// runPublish publishes the modules a build wrote to a directory as signed
// OCI artifacts.
func runPublish(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options.Publish
	options.AddPublishFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("publish: unexpected arguments %q", fs.Args())
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	k, err := signature.LoadPrivateKey(o.Key)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	popts := []publish.Option{publish.WithSigningKey(k), publish.WithLogger(stderr)}
	if t := o.Expires.Time(time.Now()); !t.IsZero() {
		popts = append(popts, publish.WithExpires(t))
	}
	p, err := publish.New(ctx, o.To, popts...)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer p.Close()
	st, err := publish.Dir(ctx, o.From, p)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintf(stdout, "published %d modules to %s (%d already there)\n", st.Published, o.To, st.Skipped)
	return nil
}
