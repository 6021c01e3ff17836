// Command dnsmon-load loads the dnsmon kernel module with finit_module(2),
// or removes it with --unload, explaining every refusal.
//
//	dnsmon-load [--unload] [FILE] [param=value ...]
//	dnsmon-load --install [--root DIR] [FILE] [param=value ...]
//	dnsmon-load --uninstall [--root DIR]
//
// FILE defaults to where dnsmon-fetch writes the module for the running
// kernel, /var/lib/dnsmon/modules/$(uname -r)/dnsmon.ko. --install makes
// the module load at every boot; --uninstall removes what it wrote.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod"
)

func main() {
	cli.Main("dnsmon-load", 0, func(ctx context.Context, stdout, stderr io.Writer, args []string) error {
		return run(ctx, stdout, stderr, args)
	})
}

// run parses args and makes one library call; opts reach the loader (tests
// pass a fake kernel).
func run(ctx context.Context, stdout, stderr io.Writer, args []string, opts ...loader.Option) (err error) {
	defer func() { err = explain(err) }()
	var o options.Load
	fs := flag.NewFlagSet("dnsmon-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: dnsmon-load [--unload] [FILE] [param=value ...]\n"+
			"       dnsmon-load --install [--root DIR] [FILE] [param=value ...]\n"+
			"       dnsmon-load --uninstall [--root DIR]\n\n"+
			"Loads the %s kernel module (default FILE: %s), or removes it with --unload.\n"+
			"--install makes it load at every boot with the parameters; --uninstall undoes that.\n"+
			"Parameters: ports=53,5353 (up to 8), ring_size=64..65536, log=0|1.\n\nflags:\n",
			kmod.Name, kmod.DefaultPath("$(uname -r)"))
		fs.PrintDefaults()
	}
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.SetArgs(fs.Args())
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Install {
		return runInstall(ctx, stdout, &o)
	}
	if o.Uninstall {
		return runUninstall(ctx, stdout, &o)
	}
	if o.Unload {
		if err := loader.Unload(ctx, kmod.Name, opts...); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "unloaded %s\n", kmod.Name)
		return nil
	}
	release, err := loader.RunningRelease()
	if err != nil {
		return err
	}
	path := o.Path(release)
	info, err := loader.Load(ctx, path, o.Params, append([]loader.Option{loader.WithRelease(release), loader.WithSigningCheck(func(w *loader.SigningWarning) { fmt.Fprintln(stderr, signingText(w)) }, hoststate.DefaultCertPath)}, opts...)...)
	if err != nil {
		return err
	}
	params := ""
	if len(o.Params) > 0 {
		params = " with " + strings.Join(o.Params, " ")
	}
	fmt.Fprintf(stdout, "loaded %s %s from %s%s; watch it with dnsmon-watch\n", info.Name, info.Version, path, params)
	// A file dnsmon-fetch did not verify still loads; say so.
	if ok, why := loader.Verified(path, loader.RecordPath(release)); !ok {
		fmt.Fprintf(stderr, "dnsmon-load: NOT VERIFIED: %s: %s was not checked by dnsmon-fetch (signature, digest, kernel)\n", why, path)
	}
	return nil
}
