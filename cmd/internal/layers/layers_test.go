package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// module is the path every package of ours starts with.
const module = "github.com/dnsmon/dnsmon"

// layer numbers the layers from the top: a package may import its own
// layer and the ones with larger numbers.
type layer int

const (
	top     layer = 1 // cmd, e2e, builder/bench
	sides   layer = 2 // the farm side and the host side
	formats layer = 3 // kmod: the module and its formats
	helpers layer = 4 // kmod/atomicfile, kmod/boundedio
)

func (l layer) String() string {
	switch l {
	case top:
		return "layer 1 (top)"
	case sides:
		return "layer 2"
	case formats:
		return "layer 3 (kmod)"
	case helpers:
		return "layer 4 (helpers)"
	}
	return fmt.Sprintf("layer %d", int(l))
}

// side tells the two halves of layer 2 apart; the other layers have none.
type side string

const (
	farm side = "farm"
	host side = "host"
)

// rule places the packages that match pattern, a path relative to the
// module: "X/..." matches X and everything under it, a bare path only
// itself.
type rule struct {
	pattern string
	layer   layer
	side    side
}

// table places every package of the module. The most specific pattern
// wins, so internal packages and test helpers (kmodtest, debiantest,
// loadertest) land with their parent. kmod's subpackages are listed one by
// one, not as "kmod/...": layer 3 is what both sides depend on, so a new
// package there should be placed on purpose, not by where it was created.
var table = []rule{
	// 1: thin mains and their shared flags; the qemu harness and the
	// round trip between farm and hosts; the farm's benchmarks, which
	// time fetches too.
	{"cmd/...", top, ""},
	{"e2e/...", top, ""},
	{"builder/bench/...", top, ""},

	// 2: the farm builds the kernel matrix and publishes modules.
	{"builder/...", sides, farm},
	{"matrix/...", sides, farm},
	// 2: the host fetches, verifies, loads, installs and watches them.
	{"fetcher/...", sides, host},

	// 3: the module's source and version, and its formats.
	{"kmod", formats, ""},
	{"kmod/artifact/...", formats, ""},  // OCI artifact format and its stores
	{"kmod/event/...", formats, ""},     // records of /dev/dnsmon
	{"kmod/internal/...", formats, ""},  // the C parser, seen from Go
	{"kmod/kmodtest/...", formats, ""},  // fake modules and registries for tests
	{"kmod/modinfo/...", formats, ""},   // .modinfo and vermagic
	{"kmod/modsign/...", formats, ""},   // module signatures and keys
	{"kmod/signature/...", formats, ""}, // cosign signatures of artifacts

	// 4: helpers that import nothing of ours.
	{"kmod/atomicfile/...", helpers, ""}, // crash-safe file replacement
	{"kmod/boundedio/...", helpers, ""},  // reads of small files and bodies, capped
}

// place is where a package sits.
type place struct {
	layer layer
	side  side
}

func (p place) String() string {
	if p.side != "" {
		return fmt.Sprintf("%v, %s side", p.layer, p.side)
	}
	return p.layer.String()
}

// classify places the package with import path path (under module), by
// the longest pattern of rules that matches it.
func classify(rules []rule, path string) (place, error) {
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return place{}, fmt.Errorf("%s is not in module %s", path, module)
	}
	best, found := -1, false
	var p place
	for _, r := range rules {
		base, tree := strings.CutSuffix(r.pattern, "/...")
		if rel != base && !(tree && strings.HasPrefix(rel, base+"/")) {
			continue
		}
		if len(r.pattern) > best {
			best, found, p = len(r.pattern), true, place{r.layer, r.side}
		}
	}
	if !found {
		return place{}, fmt.Errorf("package %s matches no entry of the layer table: give it a layer", path)
	}
	return p, nil
}

// allowed reports whether a package at from may import one at to. Within
// layer 2 the two sides are kept apart; otherwise imports may only go
// down, or stay in their layer.
//
// Test files are held to the same rule, with one allowance: they may also
// import upward within their own side. Only layer 2 has sides, so today
// that allows nothing more; tests that need both sides (publish, then
// fetch) live in the top layer, in e2e/roundtrip.
func allowed(from, to place, test bool) bool {
	if from.side != "" && to.side != "" && from.side != to.side {
		return false
	}
	if to.layer >= from.layer {
		return true
	}
	return test && from.side != "" && from.side == to.side
}

// pkg is the part of `go list -json` the check reads.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// check returns one error for every package the table does not place and
// every import the layering forbids, naming both packages and their
// places.
func check(rules []rule, pkgs []pkg) []error {
	var errs []error
	seen := map[string]bool{}
	placeOf := func(path string) (place, bool) {
		p, err := classify(rules, path)
		if err != nil {
			if !seen[path] {
				errs = append(errs, err)
			}
			seen[path] = true
			return place{}, false
		}
		return p, true
	}
	for _, pk := range pkgs {
		from, ok := placeOf(pk.ImportPath)
		if !ok {
			continue
		}
		for _, imps := range []struct {
			paths []string
			test  bool
		}{{pk.Imports, false}, {pk.TestImports, true}, {pk.XTestImports, true}} {
			for _, imp := range imps.paths {
				if imp == pk.ImportPath || !strings.HasPrefix(imp+"/", module+"/") {
					continue // an external test of its own package, or not ours
				}
				to, ok := placeOf(imp)
				if !ok || allowed(from, to, imps.test) {
					continue
				}
				kind := "imports"
				if imps.test {
					kind = "imports in its tests"
				}
				errs = append(errs, fmt.Errorf("%s (%v) %s %s (%v)", pk.ImportPath, from, kind, imp, to))
			}
		}
	}
	return errs
}

// list runs `go list -json` over the whole module: it reads the import
// graph without compiling anything.
func list(t *testing.T) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list's output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list found no packages in %s", module)
	}
	return pkgs
}

func TestLayers(t *testing.T) {
	for _, err := range check(table, list(t)) {
		t.Error(err)
	}
}

// TestTableEntriesMatch catches a table entry left behind by a move.
func TestTableEntriesMatch(t *testing.T) {
	pkgs := list(t)
	for _, r := range table {
		matched := slices.ContainsFunc(pkgs, func(p pkg) bool {
			_, err := classify([]rule{r}, p.ImportPath)
			return err == nil
		})
		if !matched {
			t.Errorf("table entry %q matches no package", r.pattern)
		}
	}
}

// TestCheck proves that the check fails when it should, on a made-up
// import graph.
func TestCheck(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	tests := []struct {
		name string
		pkg  pkg
		want []string // substrings of the errors, one per error; none if nil
	}{
		{name: "down through every layer",
			pkg: pkg{ImportPath: m("cmd/dnsmon-fetch"), Imports: []string{m("fetcher"), m("kmod/artifact"), m("kmod/atomicfile"), "fmt"}}},
		{name: "same layer and side",
			pkg: pkg{ImportPath: m("builder"), Imports: []string{m("matrix/debian")}}},
		{name: "internal with its parent",
			pkg: pkg{ImportPath: m("kmod/internal/cparse"), Imports: []string{m("kmod"), m("kmod/atomicfile")}}},
		{name: "top imports both sides",
			pkg: pkg{ImportPath: m("e2e/roundtrip"), XTestImports: []string{m("builder/publish"), m("fetcher")}}},
		{name: "own external test",
			pkg: pkg{ImportPath: m("fetcher"), XTestImports: []string{m("fetcher")}}},
		{name: "format imports the host side",
			pkg:  pkg{ImportPath: m("kmod/artifact"), Imports: []string{m("fetcher/loader")}},
			want: []string{m("kmod/artifact") + " (layer 3 (kmod)) imports " + m("fetcher/loader") + " (layer 2, host side)"}},
		{name: "helper imports a format",
			pkg:  pkg{ImportPath: m("kmod/atomicfile"), Imports: []string{m("kmod/modinfo")}},
			want: []string{m("kmod/atomicfile") + " (layer 4 (helpers)) imports " + m("kmod/modinfo") + " (layer 3 (kmod))"}},
		{name: "side imports the top",
			pkg:  pkg{ImportPath: m("fetcher"), Imports: []string{m("cmd/internal/options")}},
			want: []string{"imports " + m("cmd/internal/options")}},
		{name: "farm imports host",
			pkg:  pkg{ImportPath: m("builder/publish"), Imports: []string{m("fetcher")}},
			want: []string{m("builder/publish") + " (layer 2, farm side) imports " + m("fetcher") + " (layer 2, host side)"}},
		{name: "host tests import the farm",
			pkg:  pkg{ImportPath: m("fetcher"), XTestImports: []string{m("builder/publish")}},
			want: []string{m("fetcher") + " (layer 2, host side) imports in its tests " + m("builder/publish")}},
		{name: "format tests import the farm",
			pkg:  pkg{ImportPath: m("kmod/modsign"), TestImports: []string{m("matrix/debian")}},
			want: []string{"imports in its tests " + m("matrix/debian")}},
		{name: "unplaced importer",
			pkg:  pkg{ImportPath: m("tools/new"), Imports: []string{m("kmod")}},
			want: []string{"package " + m("tools/new") + " matches no entry"}},
		{name: "unplaced import",
			pkg:  pkg{ImportPath: m("kmod/event"), Imports: []string{m("kmod/newformat")}},
			want: []string{"package " + m("kmod/newformat") + " matches no entry"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(table, []pkg{tc.pkg})
			if len(errs) != len(tc.want) {
				t.Fatalf("check = %v, want %d errors", errs, len(tc.want))
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tc.want[i]) {
					t.Errorf("error %q, want it to contain %q", err, tc.want[i])
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		path string
		want place
	}{
		{"cmd/dnsmon-load", place{top, ""}},
		{"cmd/internal/options", place{top, ""}},
		{"e2e/internal/guestinit", place{top, ""}},
		{"builder/bench/internal/benchtable", place{top, ""}},
		{"builder", place{sides, farm}},
		{"builder/publish", place{sides, farm}},
		{"matrix/debian/debiantest", place{sides, farm}},
		{"fetcher", place{sides, host}},
		{"fetcher/loader/loadertest", place{sides, host}},
		{"kmod", place{formats, ""}},
		{"kmod/artifact/store", place{formats, ""}},
		{"kmod/atomicfile", place{helpers, ""}},
		{"kmod/boundedio", place{helpers, ""}},
	}
	for _, tc := range tests {
		got, err := classify(table, module+"/"+tc.path)
		if err != nil || got != tc.want {
			t.Errorf("classify(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
	for _, path := range []string{"kmod/newformat", "kmodx", "builderx/y", "tools"} {
		if got, err := classify(table, module+"/"+path); err == nil {
			t.Errorf("classify(%s) = %v, want an error", path, got)
		}
	}
}
