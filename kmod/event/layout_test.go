package event

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// header is the ABI header the module and this package share.
const header = "../src/dnsmon_event.h"

// structFields reads the member names of struct name from the header's
// text, independently of this package's tables, so that a field added to
// the C struct and missed here fails the test. A member that is an
// anonymous struct or union is one of fields; its own members are in
// members, by their paths from the struct (data.name.off).
func structFields(t *testing.T, src []byte, name string) (fields, members []string) {
	t.Helper()
	body := regexp.MustCompile(`(?s)struct ` + name + ` \{(.*?)\n\};`).FindSubmatch(src)
	if body == nil {
		t.Fatalf("%s: struct %s not found", header, name)
	}
	text := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAll(body[1], nil)
	return declarations(t, name, text, "")
}

var (
	// A member of a base type or of a named struct, or an array of one.
	declRE = regexp.MustCompile(`^(?:__u8|__u16|__u32|__u64|__s8|__s16|__s32|__s64|char|struct \w+)\s+(\w+)\s*(?:\[[^\]]*\])?$`)
	// An anonymous struct or union member.
	blockRE = regexp.MustCompile(`(?s)^(?:struct|union)\s*\{(.*)\}\s*(\w+)$`)
)

// declarations splits the body of a struct or union at the semicolons
// outside braces and names its members, prefixed with prefix; the members
// of anonymous structs and unions among them come back in nested. Every
// declaration must be one the expressions understand.
func declarations(t *testing.T, sname string, body []byte, prefix string) (names, nested []string) {
	t.Helper()
	depth, start := 0, 0
	for i, c := range body {
		switch {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == ';' && depth == 0:
			d := bytes.TrimSpace(body[start:i])
			start = i + 1
			if m := declRE.FindSubmatch(d); m != nil {
				names = append(names, prefix+string(m[1]))
				continue
			}
			m := blockRE.FindSubmatch(d)
			if m == nil {
				t.Fatalf("struct %s: declaration %q not understood", sname, d)
			}
			n := prefix + string(m[2])
			names = append(names, n)
			inner, innerNested := declarations(t, sname, m[1], n+".")
			nested = append(append(nested, inner...), innerNested...)
		}
	}
	if rest := bytes.TrimSpace(body[start:]); len(rest) > 0 || depth != 0 {
		t.Fatalf("struct %s: %q after the last declaration", sname, rest)
	}
	return names, nested
}

// TestLayoutMatchesHeader compiles a C program against dnsmon_event.h that
// prints offsetof and sizeof of every field, and compares them with the
// tables the decoder uses.
func TestLayoutMatchesHeader(t *testing.T) {
	src, err := os.ReadFile(header)
	if err != nil {
		t.Fatal(err)
	}
	structs := []abiStruct{
		{name: "dnsmon_event", layout: Layout(), size: Size},
		{name: "dnsmon_answer", layout: AnswerLayout(), members: AnswerDataLayout(), size: AnswerSize},
		{name: "dnsmon_stats", layout: StatsLayout(), size: StatsSize},
	}

	var prog strings.Builder
	prog.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include \"dnsmon_event.h\"\n" +
		"#define F(s, f) printf(\"field %s %s %zu %zu\\n\", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))\n" +
		"int main(void)\n{\n")
	for _, s := range structs {
		names, members := structFields(t, src, s.name)
		for _, c := range []struct {
			what string
			c    []string
			goes []Field
		}{{"fields", names, s.layout}, {"union members", members, s.members}} {
			var goNames []string
			for _, f := range c.goes {
				goNames = append(goNames, f.Name)
			}
			if strings.Join(c.c, " ") != strings.Join(goNames, " ") {
				t.Errorf("struct %s %s:\n   C: %q\n  Go: %q", s.name, c.what, c.c, goNames)
			}
		}
		for _, n := range append(names, members...) {
			fmt.Fprintf(&prog, "\tF(%s, %s);\n", s.name, n)
		}
		fmt.Fprintf(&prog, "\tprintf(\"sizeof %s %%zu\\n\", sizeof(struct %s));\n", s.name, s.name)
	}
	wantConsts := map[string]uint64{
		"DNSMON_EVENT_VERSION":   Version,
		"DNSMON_EVENT_V2_SIZE":   SizeV2,
		"DNSMON_QNAME_MAX":       QNameMax,
		"DNSMON_COMM_LEN":        CommLen,
		"DNSMON_F_PROC_UNKNOWN":  FlagProcUnknown,
		"DNSMON_F_MALFORMED":     FlagMalformed,
		"DNSMON_MALFORMED_BYTES": MalformedBytes,
		"DNSMON_ANSWERS_MAX":     AnswersMax,
		"DNSMON_NAMES_MAX":       NamesMax,
		"DNSMON_CUT_RECORDS":     CutRecords,
		"DNSMON_CUT_NAMES":       CutNames,
		"DNSMON_TYPE_A":          uint64(TypeA),
		"DNSMON_TYPE_CNAME":      uint64(TypeCNAME),
		"DNSMON_TYPE_AAAA":       uint64(TypeAAAA),
		"DNSMON_STATS_V2_SIZE":   StatsV2Size,
		"DNSMON_STATS_V1_SIZE":   StatsV1Size,
		"DNSMON_IOC_STATS":       IoctlStats,
		"DNSMON_IOC_STATS_V2":    IoctlStatsV2,
		"DNSMON_IOC_STATS_V1":    IoctlStatsV1,
	}
	// The enums' names are the prefix and the Go name in capitals, dashes
	// as underscores: DNSMON_R_POINTER_LOOP, DNSMON_K_UNANSWERED.
	enumName := func(prefix string, s fmt.Stringer) string {
		return prefix + strings.ToUpper(strings.ReplaceAll(s.String(), "-", "_"))
	}
	for r := range Reason(len(reasonNames)) {
		wantConsts[enumName("DNSMON_R_", r)] = uint64(r)
	}
	for k := range Kind(len(kindNames)) {
		wantConsts[enumName("DNSMON_K_", k)] = uint64(k)
	}
	for prefix, n := range map[string]int{"\tDNSMON_R_": len(reasonNames), "\tDNSMON_K_": len(kindNames)} {
		if c := strings.Count(string(src), prefix); c != n {
			t.Errorf("%s declares %d %s constants, Go knows %d", header, c, strings.TrimSpace(prefix), n)
		}
	}
	var constNames []string
	for c := range wantConsts {
		constNames = append(constNames, c)
	}
	sort.Strings(constNames)
	for _, c := range constNames {
		fmt.Fprintf(&prog, "\tprintf(\"const %s %%lu\\n\", (unsigned long)(%s));\n", c, c)
	}
	prog.WriteString("\treturn 0;\n}\n")

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "layout.c"), []byte(prog.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, err := filepath.Abs(filepath.Dir(header))
	if err != nil {
		t.Fatal(err)
	}
	// The module is built for amd64 and arm64 and one dnsmon-watch binary
	// per architecture reads it: the program runs as each architecture's
	// C compiler lays the structs out, natively or, cross-compiled and
	// static, under qemu's user-mode emulator.
	for _, arch := range []abiArch{
		{goarch: "amd64", triplet: "x86_64-linux-gnu", qemu: "x86_64", debs: "gcc-x86-64-linux-gnu libc6-dev-amd64-cross qemu-user-static"},
		{goarch: "arm64", triplet: "aarch64-linux-gnu", qemu: "aarch64", debs: "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static"},
	} {
		t.Run(arch.goarch, func(t *testing.T) {
			out := arch.run(t, dir, inc)
			checkLayout(t, out, structs, wantConsts)
		})
	}
}

// abiArch is one architecture the event ABI is checked on.
type abiArch struct {
	goarch  string // GOARCH spelling
	triplet string // the GNU triplet: the cross compiler is TRIPLET-gcc
	qemu    string // qemu's name: the emulator is qemu-QEMU-static
	debs    string // the Debian packages of the cross compiler and the emulator
}

// abiStruct is one struct of the header and the Go tables that read it.
type abiStruct struct {
	name    string
	layout  []Field // its fields, which tile it
	members []Field // the members of its anonymous unions and structs, which overlap
	size    int
}

// run compiles dir/layout.c for the architecture and returns what it prints.
func (a abiArch) run(t *testing.T, dir, inc string) []byte {
	t.Helper()
	bin := filepath.Join(dir, "layout-"+a.goarch)
	cc, args, run := "gcc", []string{}, []string{bin}
	if runtime.GOARCH != a.goarch {
		// Static: the emulator then needs no sysroot for the loader and libc.
		cc, args = a.triplet+"-gcc", []string{"-static"}
		run = []string{"qemu-" + a.qemu + "-static", bin}
		if _, err := exec.LookPath(run[0]); err != nil {
			// Debian from trixie on builds qemu-user itself statically.
			run[0] = "qemu-" + a.qemu
		}
	}
	args = append(args, "-Wall", "-Werror", "-I", inc, "-o", bin, filepath.Join(dir, "layout.c"))
	if out, err := exec.CommandContext(t.Context(), cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\n(the %s layout is checked with %s under qemu: install %s; make deps does)",
			cc, err, out, a.goarch, cc, a.debs)
	}
	out, err := exec.CommandContext(t.Context(), run[0], run[1:]...).Output()
	if err != nil {
		t.Fatalf("running the layout program (%s): %v", strings.Join(run, " "), err)
	}
	return out
}

// checkLayout compares what the layout program printed with the Go tables.
func checkLayout(t *testing.T, out []byte, structs []abiStruct, wantConsts map[string]uint64) {
	t.Helper()
	got := map[string]Field{}
	sizes := map[string]int{}
	consts := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		switch {
		case w[0] == "field" && len(w) == 5:
			off, _ := strconv.Atoi(w[3])
			size, _ := strconv.Atoi(w[4])
			got[w[1]+"."+w[2]] = Field{Name: w[2], Offset: off, Size: size}
		case w[0] == "sizeof" && len(w) == 3:
			sizes[w[1]], _ = strconv.Atoi(w[2])
		case w[0] == "const" && len(w) == 3:
			consts[w[1]], _ = strconv.ParseUint(w[2], 10, 64)
		default:
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}

	for _, s := range structs {
		for _, f := range append(append([]Field{}, s.layout...), s.members...) {
			c, ok := got[s.name+"."+f.Name]
			if !ok {
				t.Errorf("%s.%s: not in the C output", s.name, f.Name)
				continue
			}
			if c != f {
				t.Errorf("%s.%s: C offset %d size %d, Go offset %d size %d", s.name, f.Name, c.Offset, c.Size, f.Offset, f.Size)
			}
		}
		if sizes[s.name] != s.size {
			t.Errorf("sizeof(struct %s): C %d, Go %d", s.name, sizes[s.name], s.size)
		}
		// The Go table must tile the struct: no field missed, no overlap.
		fs := append([]Field{}, s.layout...)
		sort.Slice(fs, func(i, j int) bool { return fs[i].Offset < fs[j].Offset })
		at := 0
		for _, f := range fs {
			if f.Offset != at {
				t.Errorf("struct %s: field %s at %d, previous field ends at %d", s.name, f.Name, f.Offset, at)
			}
			at = f.Offset + f.Size
		}
		if at != s.size {
			t.Errorf("struct %s: fields end at %d, struct is %d bytes", s.name, at, s.size)
		}
	}

	for name, want := range wantConsts {
		if consts[name] != want {
			t.Errorf("%s: C %#x, Go %#x", name, consts[name], want)
		}
	}
}
