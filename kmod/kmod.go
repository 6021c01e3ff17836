package kmod

import (
	"embed"
	"io/fs"
	"strings"
)

// Only the files Kbuild reads: build products left in kmod/src by a local
// `make` must not end up in the farm's source digest.
//
//go:embed src/Kbuild src/Makefile src/VERSION src/*.c src/*.h
var src embed.FS

//go:embed src/VERSION
var version string

// Name is the module's name as the kernel knows it (/sys/module/dnsmon).
const Name = "dnsmon"

// Version is the module version, MODULE_VERSION in the C source.
func Version() string { return strings.TrimSpace(version) }

// Source returns the module's source tree: Kbuild, Makefile, C files and
// headers, rooted at the directory that `make -C KDIR M=...` builds.
func Source() fs.FS {
	sub, err := fs.Sub(src, "src")
	if err != nil {
		// fs.Sub fails only on an invalid path, and "src" is a constant.
		panic(err)
	}
	return sub
}

// DefaultPath is where dnsmon-fetch writes the module for a kernel release
// and where dnsmon-load looks for it when no file is named.
func DefaultPath(release string) string {
	return "/var/lib/dnsmon/modules/" + release + "/dnsmon.ko"
}
