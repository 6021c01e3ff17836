package main

import (
	"errors"

	"github.com/dnsmon/dnsmon/builder/cache"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// explain adds to an error of the farm libraries what a dnsmon-farm user
// does about it, naming the verbs and flags the libraries know nothing of.
func explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, publish.ErrNoSigningKey):
		return cli.Advise(err, " (dnsmon-farm keygen makes one)")
	case errors.Is(err, publish.ErrNoVersionIndex):
		return cli.Advise(err, ": run dnsmon-farm reindex --key on it first")
	case errors.Is(err, signature.ErrKeyExists):
		return cli.Advise(err, " (pass --force)")
	case errors.As(err, new(*cache.KernelsError)):
		return cli.Advise(err, " (pass -f with the kernels file the farm builds: prune keeps the header trees of the kernels it lists that their mirror no longer serves)")
	}
	return err
}
