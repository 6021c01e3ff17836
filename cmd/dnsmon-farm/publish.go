package main

import (
	"context"
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
	var o options.Publish
	if err := parseFlags("publish", stderr, args, &o, options.AddPublishFlags); err != nil {
		return err
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
