package main

import (
	"errors"
	"io/fs"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/fetcher/watch"
)

// explain adds to an error of the watch library what a dnsmon-watch user
// does about it: load the module with dnsmon-load, or run as root. The
// library reports what it found and names no command.
func explain(err error) error {
	var de *watch.DeviceError
	if err == nil || !errors.As(err, &de) {
		return err
	}
	switch {
	case errors.Is(de.Kind, watch.ErrDeviceAccess) && errors.Is(de.Err, fs.ErrPermission):
		return cli.Advise(err, ": run dnsmon-watch as root")
	case errors.Is(de.Kind, watch.ErrNoDevice) && !de.ModuleLoaded && errors.Is(de.Err, fs.ErrNotExist):
		return cli.Advise(err, ": load it with dnsmon-load (as root), then run dnsmon-watch again")
	case errors.Is(de.Kind, watch.ErrNoDevice) && !de.ModuleLoaded:
		// The node exists but no driver answers it.
		return cli.Advise(err, ": load it with dnsmon-load, then run dnsmon-watch again")
	}
	return err
}
