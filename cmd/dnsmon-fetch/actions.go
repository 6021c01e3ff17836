package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/fetcher"
	"github.com/dnsmon/dnsmon/fetcher/config"
	"github.com/dnsmon/dnsmon/fetcher/install"
)

// applyConfig fills --from, --key and --insecure-registry from the config
// file where they were not given.
func applyConfig(f *options.Fetch, set map[string]bool) error {
	c, err := config.Load(f.Config)
	if err != nil {
		return err
	}
	if !set["from"] && c.Source != "" {
		f.From = c.Source
	}
	if !set["key"] && len(c.Keys) > 0 && !f.InsecureSkipVerify {
		f.Keys = c.Keys
	}
	if !set["insecure-registry"] && c.InsecureRegistry {
		f.InsecureRegistry = true
	}
	return nil
}

// save is --save: the source and key become the defaults.
func save(stdout io.Writer, f *options.Fetch, set map[string]bool) error {
	if !set["from"] && !set["key"] && !set["insecure-registry"] {
		return errors.New("--save needs --from, --key or --insecure-registry to save")
	}
	for _, k := range f.Keys {
		if !fileExists(k) {
			return fmt.Errorf("--key %s: no such file", k)
		}
	}
	c := config.Config{Source: f.From, Keys: f.Keys, InsecureRegistry: f.InsecureRegistry}
	if err := config.Save(f.Config, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "saved %s: source %s, key %s\n", f.Config, c.Source, orNone(strings.Join(c.Keys, ", ")))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// runList is --list.
func runList(ctx context.Context, stdout io.Writer, f *options.Fetch, log io.Writer) error {
	avail, err := fetcher.List(ctx, fetcherOptions(f, log)...)
	if err != nil {
		return err
	}
	if f.JSON {
		if avail == nil {
			avail = []fetcher.Available{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(avail)
	}
	if len(avail) == 0 {
		fmt.Fprintf(stdout, "no modules at %s for that selection\n", f.From)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tARCH\tDISTRO\tVERSION")
	for _, a := range avail {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Release, a.Arch, orDash(a.Distro), a.Version)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runInstall is --install: fetch and install for one kernel.
func runInstall(ctx context.Context, stdout io.Writer, f *options.Fetch, log io.Writer) error {
	r, err := fetcher.FetchAndInstall(ctx, fetcherOptions(f, log)...)
	if r == nil {
		return err
	}
	printKernel(stdout, *r, f.From)
	if r.NoModuleYet() {
		fmt.Fprintf(stdout, "WARNING: dnsmon will NOT be loaded after booting %s until a module for it is published and installed\n", r.Kernel)
	}
	return err
}

// runInstalledKernels is --installed-kernels.
func runInstalledKernels(ctx context.Context, stdout io.Writer, f *options.Fetch, log io.Writer) error {
	rs, err := fetcher.FetchAndInstallKernels(ctx, fetcherOptions(f, log)...)
	for _, r := range rs {
		printKernel(stdout, r, f.From)
	}
	return err
}

// printKernel prints one line per kernel.
func printKernel(w io.Writer, r fetcher.KernelResult, src string) {
	switch {
	case r.NoModuleYet():
		fmt.Fprintf(w, "%s: NO MODULE YET at %s\n", r.Kernel, src)
	case r.Err != nil:
		fmt.Fprintf(w, "%s: FAILED: %v\n", r.Kernel, explain(r.Err))
	default:
		state := "installed"
		if !r.Install.Changed() {
			state = "already installed"
		}
		notes := ""
		if len(r.Install.Notes) > 0 {
			texts := make([]string, len(r.Install.Notes))
			for i, n := range r.Install.Notes {
				texts[i] = n.String()
			}
			notes = " (" + strings.Join(texts, "; ") + ")"
		}
		fmt.Fprintf(w, "%s: %s dnsmon %s at %s, %s%s\n", r.Kernel, state, r.Record.Version, install.ModulePath(r.Kernel), signedBy(r.Record), notes)
	}
}
