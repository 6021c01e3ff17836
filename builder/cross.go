package builder

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/dnsmon/dnsmon/matrix"
)

// A header-tree target of another architecture than the farm's is
// cross-compiled: it builds in the farm's own image of its suite, with the
// suite's cross compiler, against the target architecture's header packages
// and the farm architecture's kbuild programs (fixdep and modpost run on
// the farm). No emulator runs.

// farmArch is the architecture the farm's images run on.
var farmArch = runtime.GOARCH

// gnuTriplets are the GNU triplets that name Debian's and Ubuntu's cross
// toolchains (gcc-12-aarch64-linux-gnu, aarch64-linux-gnu-gcc-12), by Go
// architecture.
var gnuTriplets = map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}

// kbuildArchs are kbuild's ARCH names, by Go architecture.
var kbuildArchs = map[string]string{"amd64": "x86", "arm64": "arm64"}

// CrossFarmArch is the architecture a publication builds the header-tree
// targets of every architecture on (cross-compiling the others).
const CrossFarmArch = "amd64"

// RunnerArch is the architecture of the machine a publication builds t
// on: CrossFarmArch for a header-tree target, t's own for one built in
// its headers image (Rocky's or Ubuntu's arm64 kernels), which runs only
// there.
func RunnerArch(t matrix.Target) string {
	if UsesTree(t) {
		return CrossFarmArch
	}
	return t.Arch
}

// isCross reports whether t is cross-compiled.
func isCross(t matrix.Target) bool { return UsesTree(t) && t.Arch != farmArch }

// imageArch is the architecture of the image t builds in: the farm's for
// a header-tree target, t's own for one built in its headers image.
func imageArch(t matrix.Target) string {
	if UsesTree(t) {
		return farmArch
	}
	return t.Arch
}

// crossCompiler returns the cross compiler of the same GCC as c for the
// target triplet: "gcc-12" gives aarch64-linux-gnu-gcc-12 from package
// gcc-12-aarch64-linux-gnu.
func (c kernelCompiler) crossCompiler(triplet string) kernelCompiler {
	version := strings.TrimPrefix(c.Package, "gcc") // "-12", or "" for the default gcc
	return kernelCompiler{Program: triplet + "-gcc" + version, Package: "gcc" + version + "-" + triplet}
}

// crossEnv is the build script's environment for a cross-compiled t: the
// kbuild ARCH and CROSS_COMPILE, and the compiler to use when the kernel's
// .config names none (c.Program empty).
func crossEnv(t matrix.Target, c kernelCompiler) ([]string, kernelCompiler, error) {
	triplet, arch := gnuTriplets[t.Arch], kbuildArchs[t.Arch]
	if triplet == "" || arch == "" {
		return nil, kernelCompiler{}, fmt.Errorf("no cross toolchain for architecture %q (known: amd64, arm64)", t.Arch)
	}
	if c.Package == "" {
		c.Package = "gcc"
	}
	cc := c.crossCompiler(triplet)
	return []string{"DNSMON_ARCH=" + arch, "DNSMON_CROSS_COMPILE=" + triplet + "-"}, cc, nil
}
