package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"io"
	"strings"

	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// runBundle writes an offline bundle: a zstd-compressed tar of an OCI image
// layout with the selected modules and their signatures.
func runBundle(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var b options.Bundle
	if err := parseFlags("bundle", stderr, args, &b, options.AddBundleFlags); err != nil {
		return err
	}
	opts := publish.BundleOptions{Versions: b.Versions, Only: b.OnlyRE, Arches: b.Arches}
	if b.Key != "" {
		k, err := signature.LoadPrivateKey(b.Key)
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		opts.SigningKey = k
	}
	var sopts []store.Option
	if b.InsecureRegistry {
		sopts = append(sopts, store.WithInsecureRegistry())
	}
	src, err := store.Open(ctx, b.From, sopts...)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer src.Close()
	st, err := publish.WriteBundleFile(ctx, src, b.Out, opts)
	if errors.Is(err, publish.ErrNoSigningKey) {
		return fmt.Errorf("bundle: %w; pass --key with the artifact key", err)
	}
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	index := "the source's signed version index"
	if st.Resigned {
		index = "its own version index, signed with --key"
	}
	fmt.Fprintf(stdout, "wrote %s: %d modules of versions %s (%d unsigned), %d blobs, %d bytes before compression; %s, serial %d\n",
		b.Out, st.Modules, strings.Join(st.Versions, ", "), st.Unsigned, st.Blobs, st.Bytes, index, st.Serial)
	return nil
}
