package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// runKeygen writes a signing key pair: DIR/dnsmon.key (PKCS#8 PEM, 0600)
// and DIR/dnsmon.pub (PKIX PEM, what dnsmon-fetch --key and cosign verify
// --key read). With --module-signing it writes the module signing key and
// certificate instead (the kernel checks modules against it under Secure
// Boot): DIR/dnsmon-module-signing.key (0600), .pem and .der.
func runKeygen(_ context.Context, stdout, stderr io.Writer, args []string) error {
	var k options.Keygen
	if err := parseFlags("keygen", stderr, args, &k, options.AddKeygenFlags); err != nil {
		return err
	}
	if k.ModuleSigning {
		return moduleKeygen(stdout, k.Dir, k.Force)
	}
	priv, pub, err := signature.GenerateKeyFiles(k.Dir, k.Force)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	pk, err := signature.LoadPublicKey(pub)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (keep it secret) and %s (fingerprint %s)\n", priv, pub, signature.Fingerprint(pk))
	return nil
}

// moduleKeygen writes a new module signing key pair into dir.
func moduleKeygen(stdout io.Writer, dir string, force bool) error {
	if !force {
		for _, name := range []string{modsign.KeyFile, modsign.CertFile, modsign.CertDERFile} {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("keygen: refusing to replace %s (pass --force; modules signed with the old key then need the new certificate enrolled)", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("keygen: %w", err)
			}
		}
	}
	pair, err := modsign.NewSigningKey(modsign.DefaultSubject)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	key, pem, der, err := pair.WriteFiles(dir)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (keep it secret: it never goes into an image, a log or an artifact), %s and %s\n"+
		"certificate %q, fingerprint %s\n"+
		"build with: dnsmon-farm build --module-key %s --module-cert %s\n",
		key, pem, der, modsign.KeyDescription(pair.Cert), modsign.Fingerprint(pair.Cert), key, pem)
	return nil
}
