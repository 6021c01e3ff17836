package main

import (
	"errors"
	"fmt"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/loader"
)

// explain adds to an error of the loader and install libraries what a
// dnsmon-load user does about it, naming the commands and flags the
// libraries know nothing of.
func explain(err error) error {
	var le *loader.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return explainLoader(err, le)
	case errors.Is(err, install.ErrKernelNotInstalled):
		return cli.Advise(err, " (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)")
	}
	return err
}

// explainLoader advises on a refused load or unload, by its kind and, where
// one kind has several causes, its errno.
func explainLoader(err error, e *loader.Error) error {
	switch {
	case errors.Is(e.Kind, loader.ErrNoFile):
		return cli.Advise(err, fmt.Sprintf("; run dnsmon-fetch to download the module for kernel %s, or name the module file", e.Release))
	case errors.Is(e.Kind, loader.ErrWrongKernel) && e.Errno == 0:
		// vermagic names another release: the module was never offered.
		return cli.Advise(err, "; run dnsmon-fetch to get the module built for "+e.Release)
	case errors.Is(e.Kind, loader.ErrWrongKernel):
		// The kernel refused it although vermagic matched: symbol versions
		// or layout differ, so only a build for this very kernel will do.
		return cli.Advise(err, "; run dnsmon-fetch to get the module built for exactly "+e.Release)
	case errors.Is(e.Kind, loader.ErrUnknownSymbol):
		return cli.Advise(err, ": run dnsmon-fetch to get the module built for "+e.Release)
	case errors.Is(e.Kind, loader.ErrNotModule) && e.Errno != 0:
		return cli.Advise(err, ", and fetch it again with dnsmon-fetch")
	case errors.Is(e.Kind, loader.ErrAlreadyLoaded):
		return cli.Advise(err, "; to replace it, stop dnsmon-watch, run dnsmon-load --unload, then load again")
	case errors.Is(e.Kind, loader.ErrBusy):
		return cli.Advise(err, "; wait a moment and run dnsmon-load again")
	case errors.Is(e.Kind, loader.ErrFileBusy):
		return cli.Advise(err, "; wait for it to finish and run dnsmon-load again")
	case errors.Is(e.Kind, loader.ErrUnsupported):
		return cli.Advise(err, "; dnsmon-load cannot load modules here")
	case errors.Is(e.Kind, loader.ErrNotRoot):
		return cli.Advise(err, "; run dnsmon-load as root, e.g. with sudo")
	case errors.Is(e.Kind, loader.ErrInUse):
		users := ""
		if e.Users > 0 {
			users = fmt.Sprintf(", %d users", e.Users)
		}
		return cli.Reword(err, fmt.Sprintf("%s %s: in use (dnsmon-watch running?%s): stop the programs that hold /dev/dnsmon open (fuser -v /dev/dnsmon lists them) and run dnsmon-load --unload again",
			e.Op, e.Target, users))
	}
	return err
}
