package main

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/cmd/internal/cli/clitest"
	"github.com/dnsmon/dnsmon/fetcher/watch"
	"github.com/dnsmon/dnsmon/kmod/event"
)

// TestExplain checks the advice dnsmon-watch adds to the watch library's
// errors: the text is what README.md's Troubleshooting table quotes.
func TestExplain(t *testing.T) {
	const dev = "/dev/dnsmon"
	devErr := func(kind error, loaded bool, reason string, err error) error {
		return &watch.DeviceError{Kind: kind, Device: dev, ModuleLoaded: loaded, Reason: reason, Err: err}
	}
	other := errors.New("reading /dev/dnsmon: input/output error")
	clitest.CheckExplain(t, explain, map[string]clitest.Case{
		"not loaded": {Err: devErr(watch.ErrNoDevice, false, dev+" does not exist because the dnsmon module is not loaded (no /sys/module/dnsmon)", fs.ErrNotExist),
			WantIs: watch.ErrNoDevice,
			Want:   "no dnsmon device: /dev/dnsmon does not exist because the dnsmon module is not loaded (no /sys/module/dnsmon): load it with dnsmon-load (as root), then run dnsmon-watch again"},
		"no driver": {Err: devErr(watch.ErrNoDevice, false, dev+" exists but no driver answers (the dnsmon module is not loaded)", unix.ENXIO),
			WantIs: unix.ENXIO,
			Want:   "no dnsmon device: /dev/dnsmon exists but no driver answers (the dnsmon module is not loaded): load it with dnsmon-load, then run dnsmon-watch again"},
		"loaded, no node": {Err: devErr(watch.ErrNoDevice, true, dev+" does not exist although the dnsmon module is loaded (…): create it with mknod /dev/dnsmon c 10 57 (…)", fs.ErrNotExist),
			WantIs: watch.ErrNoDevice,
			Want:   "no dnsmon device: /dev/dnsmon does not exist although the dnsmon module is loaded (…): create it with mknod /dev/dnsmon c 10 57 (…)"},
		"permission": {Err: devErr(watch.ErrDeviceAccess, true, "permission denied opening "+dev, unix.EACCES),
			WantIs: watch.ErrDeviceAccess,
			Want:   "cannot open the dnsmon device: permission denied opening /dev/dnsmon: run dnsmon-watch as root"},
		"record version": {Err: fmt.Errorf("reading %s: %w", dev, &event.VersionError{Version: 4}), WantIs: event.ErrVersion,
			Want: "reading /dev/dnsmon: record version 4, but this program reads versions 1 to 3: use the dnsmon-watch of the module's release"},
		"queries only": {Err: &watch.NoAnswersError{Version: 2}, WantIs: watch.ErrNoAnswers,
			Want: "--lookups: the loaded dnsmon module reports queries only (record version 2); load a module of this release"},
		"responses=0": {Err: &watch.NoAnswersError{}, WantIs: watch.ErrNoAnswers,
			Want: "--lookups: the dnsmon module was loaded with responses=0: load it with responses=1"},
		"other": {Err: other, WantIs: other, Want: other.Error()},
	})
}
