package main

import (
	"errors"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/install"
)

// explain adds to an error of the fetcher libraries what a dnsmon-fetch
// user does about it, in terms of this command's flags: the libraries
// report the facts, and have no flags to name.
func explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fetcher.ErrNoKey):
		return cli.Advise(err, ": pass --key FILE (the publisher's dnsmon.pub) or, to skip signature checks, --insecure-skip-verify")
	case errors.Is(err, fetcher.ErrKeyAndSkipVerify):
		return cli.Reword(err, "--key and --insecure-skip-verify exclude each other")
	case errors.Is(err, fetcher.ErrUnsigned):
		return cli.Advise(err, " (publish with a signing key, or pass --insecure-skip-verify)")
	case errors.Is(err, fetcher.ErrIndexUnsigned):
		return cli.Advise(err, " (publish or reindex with a signing key: dnsmon-farm reindex --key; or pass --insecure-skip-verify)")
	case errors.Is(err, fetcher.ErrNoVersionIndex):
		return cli.Advise(err, " (run dnsmon-farm reindex --key on the source with this release's dnsmon-farm)")
	case errors.As(err, new(*fetcher.RollbackError)):
		return cli.Advise(err, "; to accept it knowingly (the publisher restarted the repository), pass --allow-rollback")
	case errors.As(err, new(*fetcher.ExpiredError)):
		return cli.Advise(err, "; to accept it knowingly (an old bundle on a host without network), pass --allow-expired")
	case errors.Is(err, fetcher.ErrDetectKernel):
		return cli.Advise(err, " (pass --kernel)")
	case errors.Is(err, install.ErrKernelNotInstalled):
		return cli.Advise(err, " (fetch the module for an installed kernel; see dnsmon-fetch --installed-kernels)")
	}
	return err
}
