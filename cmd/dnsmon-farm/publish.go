package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher/signature"
)

// runPublish publishes the modules a build wrote to a directory as signed
// OCI artifacts.
func runPublish(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "directory of built modules (dnsmon-farm build --to dir:DIR)")
	to := fs.String("to", "", "where to publish: REGISTRY/REPO or oci-layout:DIR")
	key := fs.String("key", "", "signing key (dnsmon.key from dnsmon-farm keygen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("publish: unexpected arguments %q", fs.Args())
	case *from == "" || *to == "":
		return errors.New("publish: --from DIR and --to TARGET are required")
	case *key == "":
		return errors.New("publish: --key FILE is required (dnsmon-farm keygen makes one)")
	}
	k, err := signature.LoadPrivateKey(*key)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p, err := publish.New(ctx, *to, publish.WithSigningKey(k), publish.WithLogger(stderr))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer p.Close()
	st, err := publish.PublishDir(ctx, *from, p)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintf(stdout, "published %d modules to %s (%d already there)\n", st.Published, *to, st.Skipped)
	return nil
}
