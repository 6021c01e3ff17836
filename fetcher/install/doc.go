// Package install makes a verified dnsmon module survive reboots: it puts
// the module where the kernel's tools find it (/lib/modules/KREL/updates),
// refreshes the module index with depmod, arranges loading at boot
// (modules-load.d, modprobe.d, and a systemd unit for hosts without kmod
// tools), installs a kernel post-install hook that fetches the module for
// each new kernel, and records every file it wrote in a manifest so that
// Uninstall removes exactly those.
//
// Every write is atomic (temporary file in the same directory, fsync,
// rename, fsync of the directory) and ordered so that a crash halfway
// leaves the previous state working: the manifest first (listing the old
// and the new files), the module before the configuration that loads it,
// and modules-load.d last; Uninstall goes in reverse. Both are idempotent.
//
// All paths live under a root directory (WithRoot, default "/") and the
// filesystem and commands are injectable, so tests run without root.
package install
