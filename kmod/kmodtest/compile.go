package kmodtest

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CompiledRelease is the kernel release in the vermagic of CompileModule's
// module.
const CompiledRelease = "6.1.0-56-amd64"

//go:embed testdata/module.c
var moduleSource []byte

// Compile compiles the C file src with gcc -c -O2 into a temporary
// directory and returns the object's path: an ELF relocatable, as a .ko is.
// gcc is on every development and CI machine, so no binaries are committed.
func Compile(t testing.TB, src string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c")+".o")
	if b, err := exec.CommandContext(t.Context(), "gcc", "-c", "-O2", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", src, err, b)
	}
	return out
}

// CompileModule compiles testdata/module.c, a stand-in for dnsmon.ko, and
// returns the object's path. Unlike KO's file, its .modinfo is laid out by
// gcc, as a real module's is, and holds every entry dnsmon's module
// carries: name=dnsmon, version 1.2.3, vermagic for CompiledRelease,
// srcversion, license, depends, and the parameters ports, ring_size and
// log.
func CompileModule(t testing.TB) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "module.c")
	if err := os.WriteFile(src, moduleSource, 0o644); err != nil {
		t.Fatal(err)
	}
	return Compile(t, src)
}
