package install

import (
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/kmod"
)

// The files ModuleAndBoot writes, as paths inside the root.
const (
	// ManifestPath lists every file and directory ModuleAndBoot and Module created.
	ManifestPath = "/var/lib/dnsmon/installed.json"
	// ModulesLoadPath makes systemd-modules-load (or any modules-load.d
	// reader) run `modprobe dnsmon` at boot.
	ModulesLoadPath = "/etc/modules-load.d/dnsmon.conf"
	// ModprobePath holds the module parameters for modprobe.
	ModprobePath = "/etc/modprobe.d/dnsmon.conf"
	// UnitPath is the systemd unit that loads the module with dnsmon-load
	// on hosts without kmod tools.
	UnitPath = "/etc/systemd/system/dnsmon.service"
	// UnitWantsPath enables the unit (what `systemctl enable` would link).
	UnitWantsPath = "/etc/systemd/system/sysinit.target.wants/dnsmon.service"
	// HookPath is the kernel post-install hook (run-parts runs it with the
	// new kernel release as $1).
	HookPath = "/etc/kernel/postinst.d/dnsmon"
	// LoaderPath is where the unit finds dnsmon-load.
	LoaderPath = "/usr/local/sbin/dnsmon-load"
	// FetchPath is where the hook finds dnsmon-fetch when ModuleAndBoot copied it.
	FetchPath = "/usr/local/sbin/dnsmon-fetch"
)

// ModulePath is where the module for release goes: the "updates" directory,
// which depmod searches before the kernel's own modules.
func ModulePath(release string) string {
	return "/lib/modules/" + release + "/updates/" + kmod.Name + ".ko"
}

const header = "# Written by dnsmon-load --install; dnsmon-load --uninstall removes it.\n"

func modulesLoadConf() []byte {
	return []byte(header + kmod.Name + "\n")
}

func modprobeConf(params []string) []byte {
	s := header + "# Module parameters: ports=53,5353 (up to 8), ring_size=64..65536, log=0|1.\n"
	if len(params) > 0 {
		s += "options " + kmod.Name + " " + strings.Join(params, " ") + "\n"
	}
	return []byte(s)
}

// ExecStart returns the unit's command line; %v is systemd's specifier for
// the running kernel release.
func ExecStart(params []string) string {
	return strings.Join(append([]string{LoaderPath, ModulePath("%v")}, params...), " ")
}

func unitFile(params []string) []byte {
	return fmt.Appendf(nil, `%s# Loads the %[2]s module early at boot on hosts without kmod tools; where
# systemd-modules-load has loaded it already (modules-load.d), this unit is skipped.
[Unit]
Description=Load the %[2]s DNS query monitor kernel module
Documentation=https://github.com/dnsmon/dnsmon
DefaultDependencies=no
After=systemd-modules-load.service
Before=sysinit.target network-pre.target
Wants=network-pre.target
ConditionPathExists=!/sys/module/%[2]s

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%[3]s

[Install]
WantedBy=sysinit.target
`, header, kmod.Name, ExecStart(params))
}

// hookScript is the kernel post-install hook. It never fails the package
// manager, but says loudly on its terminal when the new kernel has no
// module yet.
func hookScript(fetch string) []byte {
	return fmt.Appendf(nil, `#!/bin/sh
%s# Kernel packages (Debian, Ubuntu, RHEL family) run it with the new kernel
# release as $1: it fetches, verifies and installs the %[2]s module for that
# kernel from the source in /etc/dnsmon/config.json, before the reboot.
KREL="$1"
[ -n "$KREL" ] || exit 0
# Only the copy installed with the module, by its absolute path: this runs
# as root on every kernel update, so nothing is looked up in $PATH.
FETCH=%[3]s
if [ ! -x "$FETCH" ]; then
	echo "WARNING: dnsmon: $FETCH not found: NO dnsmon module installed for kernel $KREL." >&2
	echo "WARNING: dnsmon will NOT be loaded after booting $KREL." >&2
	exit 0
fi
if "$FETCH" --kernel "$KREL" --install; then
	exit 0
fi
echo "" >&2
echo "WARNING: dnsmon: NO dnsmon module installed for kernel $KREL (see the message above)." >&2
echo "WARNING: dnsmon will NOT be loaded after booting $KREL. Retry before rebooting with:" >&2
echo "WARNING:     $FETCH --kernel $KREL --install" >&2
exit 0
`, header, kmod.Name, fetch)
}
