// Command dnsmon-fetch installs the prebuilt dnsmon module for a kernel:
// it picks the artifact for the kernel release from a registry repository,
// an OCI image layout or an offline bundle, checks its digests, signature
// and vermagic, and writes it atomically where dnsmon-load looks for it.
//
//	dnsmon-fetch [--from SRC] [--key PUB] [--kernel RELEASE] [-o FILE | --root DIR] [--version V] [--insecure-skip-verify]
//	             [--allow-rollback] [--allow-expired]
//	dnsmon-fetch [--kernel RELEASE] --install [--root DIR]
//	dnsmon-fetch --installed-kernels [--root DIR]
//	dnsmon-fetch --list [--from SRC] [--key PUB] [--distro D] [--json] [--root DIR]
//	dnsmon-fetch --from SRC --key PUB --save
//
// The defaults for --from and --key come from /etc/dnsmon/config.json
// (--config), which --save writes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher"
)

func main() { cli.Main("dnsmon-fetch", 1, run) }

func run(ctx context.Context, stdout, stderr io.Writer, args []string) (err error) {
	defer func() { err = explain(err) }()
	fs := flag.NewFlagSet("dnsmon-fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f options.Fetch
	options.AddFetchFlags(fs, &f, fetcher.DefaultSource)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := f.CheckActions(); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := applyConfig(&f, set); err != nil {
		return err
	}
	if f.Save {
		if err := save(stdout, &f, set); err != nil {
			return err
		}
		if !f.Install && !f.InstalledKernels && !f.List && !set["kernel"] && !set["o"] {
			return nil
		}
	}
	if err := f.Validate(fileExists); err != nil {
		return err
	}
	switch {
	case f.List:
		return runList(ctx, stdout, &f, stderr)
	case f.Install:
		return runInstall(ctx, stdout, &f, stderr)
	case f.InstalledKernels:
		return runInstalledKernels(ctx, stdout, &f, stderr)
	}
	rec, err := fetcher.Fetch(ctx, fetcherOptions(&f, stderr)...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: dnsmon %s for %s/%s from %s, %s\n", rec.Path, rec.Version, rec.Kernel, rec.Arch, rec.Source, signedBy(rec))
	return nil
}

// signedBy says what was checked: the artifact signature and the module's
// own signature (the one the kernel checks under Secure Boot).
func signedBy(rec *fetcher.Record) string {
	if !rec.Verified {
		return "SIGNATURE NOT CHECKED (--insecure-skip-verify)"
	}
	s := "signature verified with " + rec.Signer
	switch {
	case rec.SigningCert != "":
		s += ", module signature checked against certificate " + rec.SigningCert
	case !rec.ModuleSigned:
		s += ", module unsigned"
	}
	return s
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// fetcherOptions turns the flags into fetcher options.
func fetcherOptions(f *options.Fetch, log io.Writer) []fetcher.Option {
	opts := []fetcher.Option{fetcher.WithSource(f.From), fetcher.WithLogger(log)}
	if f.Root != "" {
		opts = append(opts, fetcher.WithRoot(f.Root))
	}
	if f.Distro != "" {
		opts = append(opts, fetcher.WithDistro(f.Distro))
	}
	for _, k := range f.Keys {
		opts = append(opts, fetcher.WithPublicKeyFile(k))
	}
	if f.InsecureSkipVerify {
		opts = append(opts, fetcher.WithInsecureSkipVerify())
	}
	if f.Kernel != "" {
		opts = append(opts, fetcher.WithRelease(f.Kernel))
	}
	if f.Arch != "" {
		opts = append(opts, fetcher.WithArch(f.Arch))
	}
	if f.Output != "" {
		opts = append(opts, fetcher.WithOutput(f.Output))
	}
	if f.Version != "" {
		opts = append(opts, fetcher.WithVersion(f.Version))
	}
	if f.InsecureRegistry {
		opts = append(opts, fetcher.WithInsecureRegistry())
	}
	if f.AllowRollback {
		opts = append(opts, fetcher.WithAllowRollback())
	}
	if f.AllowExpired {
		opts = append(opts, fetcher.WithAllowExpired())
	}
	return opts
}
