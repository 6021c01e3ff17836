package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/dnsmon/dnsmon/cmd/internal/cli"
	"github.com/dnsmon/dnsmon/fetcher/watch"
	"github.com/dnsmon/dnsmon/kmod/event"
)

// explain adds to an error of the watch and event libraries what a
// dnsmon-watch user does about it: load the module with dnsmon-load, run
// as root, use the dnsmon-watch of the module's release, or load a module
// that reports answers for --lookups. The libraries report what they found
// and name no command.
func explain(err error) error {
	var na *watch.NoAnswersError
	if errors.As(err, &na) {
		if na.Version != 0 {
			return cli.Reword(err, fmt.Sprintf("--lookups: the loaded dnsmon module reports queries only (record version %d); load a module of this release", na.Version))
		}
		return cli.Reword(err, "--lookups: the dnsmon module was loaded with responses=0: load it with responses=1")
	}
	if errors.Is(err, event.ErrVersion) {
		// The module and this command come from different releases.
		return cli.Advise(err, ": use the dnsmon-watch of the module's release")
	}
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
