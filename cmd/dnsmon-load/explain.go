package main

import (
	"errors"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/fetcher/install"
)

// explain adds to an error of the loader and install libraries what a
// dnsmon-load user does about it, naming the commands and flags the
// libraries know nothing of.
func explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, install.ErrKernelNotInstalled):
		return cli.Advise(err, " (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)")
	}
	return err
}
