package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Tool is a Go main package built into the initramfs.
type Tool struct {
	Pkg  string // package path relative to the repository root, e.g. "./cmd/dnsmon-load"
	Path string // path inside the guest, e.g. "/bin/dnsmon-load"
}

// GuestTools are the programs every guest gets: the init (which doubles as
// the test clients and the responder), dnsmon-load and dnsmon-watch.
var GuestTools = []Tool{
	{Pkg: "./e2e/internal/guestinit", Path: "/init"},
	{Pkg: "./cmd/dnsmon-load", Path: "/bin/dnsmon-load"},
	{Pkg: "./cmd/dnsmon-watch", Path: "/bin/dnsmon-watch"},
}

// RepoRoot finds the directory holding go.mod, from dir upwards.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %q", dir)
		}
	}
}

// BuildTools builds each tool as a static amd64 binary (CGO_ENABLED=0) into
// outDir and returns their initramfs entries.
func BuildTools(ctx context.Context, root, outDir string, tools []Tool) ([]InitramfsFile, error) {
	return BuildToolsFor(ctx, root, outDir, "amd64", tools)
}

// BuildToolsFor is BuildTools for the architecture arch (GOARCH).
func BuildToolsFor(ctx context.Context, root, outDir, arch string, tools []Tool) ([]InitramfsFile, error) {
	var files []InitramfsFile
	var errs []error
	for _, t := range tools {
		pkg := t.Pkg
		out := filepath.Join(outDir, filepath.Base(t.Path))
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			errs = append(errs, fmt.Errorf("building %s: %w\n%s", pkg, err, buf.String()))
			continue
		}
		files = append(files, InitramfsFile{Path: t.Path, Source: out, Mode: 0o755})
	}
	return files, errors.Join(errs...)
}
