package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher/install"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod"
)

// runInstall is --install: one install.ModuleAndBoot call.
func runInstall(ctx context.Context, stdout io.Writer, o *options.Load) error {
	root := o.Root
	if root == "" {
		root = "/"
	}
	running, err := loader.RunningRelease()
	if err != nil {
		return err
	}
	path := o.File
	if path == "" {
		// Where dnsmon-fetch writes, else the installed copy (installing
		// again with new parameters).
		path = filepath.Join(root, kmod.DefaultPath(running))
		if _, err := os.Stat(path); err != nil {
			if p := filepath.Join(root, install.ModulePath(running)); fileExists(p) {
				path = p
			}
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the dnsmon-load binary to run at boot: %w", err)
	}
	opts := []install.Option{install.WithRoot(root), install.WithLoaderBinary(self)}
	if fetch := findFetch(self); fetch != "" {
		opts = append(opts, install.WithFetchBinary(fetch))
	}
	res, err := install.ModuleAndBoot(ctx, path, o.Params, opts...)
	if err != nil {
		return err
	}
	for _, c := range res.Changes {
		if c.Action != "unchanged" {
			fmt.Fprintf(stdout, "%-9s %s\n", c.Action, filepath.Join(root, c.Path))
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "note: %s\n", noteText(n))
	}
	k := res.Kernels[0]
	params := "default parameters"
	if len(o.Params) > 0 {
		params = strings.Join(o.Params, " ")
	}
	if !res.Changed() {
		fmt.Fprintf(stdout, "%s is already installed for kernel %s with %s: nothing changed\n", kmod.Name, k, params)
	} else {
		fmt.Fprintf(stdout, "installed %s for kernel %s with %s; it loads at every boot (files listed in %s)\n",
			kmod.Name, k, params, filepath.Join(root, install.ManifestPath))
	}
	if k != running {
		fmt.Fprintf(stdout, "note: %s is not the running kernel (%s): the module loads when %s boots\n", k, running, k)
	}
	return nil
}

// noteText words an install note for a dnsmon-load user.
func noteText(n install.Note) string {
	if n.Kind == install.NoFetchBinary {
		return "no dnsmon-fetch binary given: " + n.String() + "; put dnsmon-fetch beside dnsmon-load and install again"
	}
	return n.String()
}

// findFetch returns dnsmon-fetch from the directory of this binary, the
// pair the operator unpacked together, or "". Never from $PATH: whatever
// is copied runs as root on every kernel update, and a directory early in
// $PATH may be writable by others.
func findFetch(self string) string {
	if p := filepath.Join(filepath.Dir(self), "dnsmon-fetch"); fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// runUninstall is --uninstall: one install.Uninstall call.
func runUninstall(ctx context.Context, stdout io.Writer, o *options.Load) error {
	root := o.Root
	if root == "" {
		root = "/"
	}
	res, err := install.Uninstall(ctx, install.WithRoot(root))
	if errors.Is(err, install.ErrNotInstalled) {
		fmt.Fprintf(stdout, "%s is not installed (no %s): nothing to remove\n", kmod.Name, filepath.Join(root, install.ManifestPath))
		return nil
	}
	if err != nil {
		return err
	}
	n := 0
	for _, c := range res.Changes {
		if c.Action != "absent" {
			fmt.Fprintf(stdout, "%-9s %s\n", c.Action, filepath.Join(root, c.Path))
		}
		if c.Action == "removed" {
			n++
		}
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "note: %s\n", noteText(n))
	}
	fmt.Fprintf(stdout, "uninstalled %s: removed %d files and directories\n", kmod.Name, n)
	if root == "/" && fileExists("/sys/module/"+kmod.Name+"/initstate") {
		fmt.Fprintf(stdout, "note: the module is still loaded; dnsmon-load --unload removes it now\n")
	}
	return nil
}
