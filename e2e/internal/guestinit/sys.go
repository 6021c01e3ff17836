package main

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/e2e/internal/guestsys"
)

// mountAll mounts what the scenarios need.
func mountAll() error { return guestsys.MountAll(guestsys.Basic) }

// loUp sets IFF_UP on the loopback interface of the caller's namespace.
func loUp() error { return guestsys.LoUp() }

// netnsInode returns the inode of the caller's network namespace.
func netnsInode() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/ns/net: %w", err)
	}
	return st.Ino, nil
}

// kernelLog returns the whole kernel log buffer.
func kernelLog() (string, error) { return guestsys.KernelLog() }

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func powerOff() { guestsys.PowerOff() }

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
