package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/fetcher"
)

// runBundle writes an offline bundle: a zstd-compressed tar of an OCI image
// layout with the selected modules and their signatures.
func runBundle(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source: REGISTRY/REPO, oci-layout:DIR or another bundle")
	out := fs.String("o", "", "bundle file to write, FILE.tar.zst")
	only := fs.String("only", "", "keep only kernel releases matching this regular expression")
	var versions multiFlag
	fs.Var(&versions, "version", "module version to include (repeatable; default: every version)")
	insecure := fs.Bool("insecure-registry", false, "allow plain HTTP to the registry")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("bundle: unexpected arguments %q", fs.Args())
	case *from == "":
		return errors.New("bundle: --from is required")
	case *out == "":
		return errors.New("bundle: -o FILE.tar.zst is required")
	case !strings.HasSuffix(*out, ".tar.zst"):
		return fmt.Errorf("bundle: -o %q: the name must end in .tar.zst (dnsmon-fetch recognises bundles by it)", *out)
	}
	opts := publish.BundleOptions{Versions: versions}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return fmt.Errorf("bundle: --only: %w", err)
		}
		opts.Only = re
	}
	var fopts []fetcher.Option
	if *insecure {
		fopts = append(fopts, fetcher.WithInsecureRegistry())
	}
	src, err := fetcher.Open(ctx, *from, fopts...)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer src.Close()
	st, err := publish.WriteBundleFile(ctx, src, *out, opts)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d modules of versions %s (%d unsigned), %d blobs, %d bytes before compression\n",
		*out, st.Modules, strings.Join(st.Versions, ", "), st.Unsigned, st.Blobs, st.Bytes)
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
