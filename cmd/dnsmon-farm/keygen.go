package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/fetcher/signature"
)

// runKeygen writes a signing key pair: DIR/dnsmon.key (PKCS#8 PEM, 0600)
// and DIR/dnsmon.pub (PKIX PEM, what dnsmon-fetch --key and cosign verify
// --key read).
func runKeygen(_ context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "directory to write dnsmon.key and dnsmon.pub into")
	force := fs.Bool("force", false, "replace existing key files")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keygen: unexpected arguments %q", fs.Args())
	}
	priv, pub, err := signature.GenerateKeyFiles(*dir, *force)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	k, err := signature.LoadPublicKey(pub)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (keep it secret) and %s (fingerprint %s)\n", priv, pub, signature.Fingerprint(k))
	return nil
}
