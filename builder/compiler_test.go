package builder

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadKernelCompiler(t *testing.T) {
	tests := []struct {
		name, config string
		want         kernelCompiler
		ok, wantErr  bool
	}{
		{name: "ubuntu 24.04", config: "CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc-13 (Ubuntu 13.3.0-6ubuntu2~24.04.1) 13.3.0\"\nCONFIG_CC_IS_GCC=y\n",
			want: kernelCompiler{Program: "x86_64-linux-gnu-gcc-13", Package: "gcc-13"}, ok: true},
		{name: "debian 12", config: "# comment\nCONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0\"\n",
			want: kernelCompiler{Program: "gcc-12", Package: "gcc-12"}, ok: true},
		{name: "arm64 cross", config: "CONFIG_CC_VERSION_TEXT=\"aarch64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0\"\n",
			want: kernelCompiler{Program: "aarch64-linux-gnu-gcc-14", Package: "gcc-14"}, ok: true},
		{name: "ubuntu 25.10, the default gcc", config: "CONFIG_CC_VERSION_TEXT=\"x86_64-linux-gnu-gcc (Ubuntu 15.2.0-4ubuntu4) 15.2.0\"\n",
			want: kernelCompiler{Program: "x86_64-linux-gnu-gcc", Package: "gcc"}, ok: true},
		{name: "plain gcc", config: "CONFIG_CC_VERSION_TEXT=\"gcc (GCC) 11.4.1\"\n",
			want: kernelCompiler{Program: "gcc", Package: "gcc"}, ok: true},
		{name: "clang", config: "CONFIG_CC_VERSION_TEXT=\"clang version 18.1.3\"\n"},
		{name: "before 5.8", config: "CONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=50400\n"},
		{name: "not quoted", config: "CONFIG_CC_VERSION_TEXT=gcc-12\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "usr/src/k"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "usr/src/k/.config"), []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok, err := readKernelCompiler(dir, "usr/src/k/.config")
			if (err != nil) != tc.wantErr || ok != tc.ok || got != tc.want {
				t.Errorf("readKernelCompiler = %+v, %v, %v; want %+v, %v, error %v", got, ok, err, tc.want, tc.ok, tc.wantErr)
			}
		})
	}
	// A tree without a .config builds with the image's compiler; one whose
	// .config is a symlink out of the tree is not read through it.
	dir := t.TempDir()
	if _, ok, err := readKernelCompiler(dir, "usr/src/k/.config"); ok || err != nil {
		t.Errorf("no .config: ok %v, err %v", ok, err)
	}
	outside := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(outside, []byte("CONFIG_CC_VERSION_TEXT=\"gcc-12 (x) 12\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, ".config")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := readKernelCompiler(dir, ".config"); ok || err == nil {
		t.Errorf(".config linking out of the tree: ok %v, err %v; want an error", ok, err)
	}
}
