package builder

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// kernelCompiler is the compiler a kernel was built with, as its .config
// names it. kbuild warns, and W=1 fails the build, when a module is built
// with another one, or with the same gcc under another name: it compares
// `$(CC) --version` with CONFIG_CC_VERSION_TEXT word for word.
type kernelCompiler struct {
	// Program is the command, e.g. "x86_64-linux-gnu-gcc-13", "gcc-12".
	Program string
	// Package is the Debian or Ubuntu package that installs it: "gcc-13".
	Package string
}

// gccProgram matches the gcc commands Debian and Ubuntu install: gcc-12,
// x86_64-linux-gnu-gcc-13, aarch64-linux-gnu-gcc-14 (package gcc-N), and
// gcc, x86_64-linux-gnu-gcc (package gcc, the release's default).
var gccProgram = regexp.MustCompile(`^(?:[a-z0-9_]+-linux-gnu-)?gcc(-[0-9]+)?$`)

// maxConfigLine bounds one line of a kernel's .config.
const maxConfigLine = 64 << 10

// readKernelCompiler reads CONFIG_CC_VERSION_TEXT from the .config at path
// below the header tree dir, following no symlink out of the tree. ok is
// false when the kernel does not name a gcc so (kernels before 5.8, clang):
// the image's default compiler is used.
func readKernelCompiler(dir, path string) (c kernelCompiler, ok bool, err error) {
	f, err := os.OpenInRoot(dir, path)
	if errors.Is(err, fs.ErrNotExist) {
		return kernelCompiler{}, false, nil
	}
	if err != nil {
		return kernelCompiler{}, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxConfigLine)
	for sc.Scan() {
		v, found := strings.CutPrefix(sc.Text(), "CONFIG_CC_VERSION_TEXT=")
		if !found {
			continue
		}
		text, err := strconv.Unquote(v)
		if err != nil {
			return kernelCompiler{}, false, fmt.Errorf("%s: CONFIG_CC_VERSION_TEXT %s: %w", path, v, err)
		}
		prog, _, _ := strings.Cut(text, " ")
		m := gccProgram.FindStringSubmatch(prog)
		if m == nil {
			return kernelCompiler{}, false, nil
		}
		return kernelCompiler{Program: prog, Package: "gcc" + m[1]}, true, nil
	}
	if err := sc.Err(); err != nil {
		return kernelCompiler{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return kernelCompiler{}, false, nil
}
