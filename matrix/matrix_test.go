package matrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

func TestParseCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/kernels.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantRaw, err := os.ReadFile(filepath.Join(dir, "errors.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, l := range strings.Split(strings.TrimSpace(string(wantRaw)), "\n") {
				if l != "" {
					want = append(want, l)
				}
			}
			_, err = Parse("kernels.yaml", data)
			if len(want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want %d errors", len(want))
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range want {
				line, sub, _ := strings.Cut(w, ": ")
				prefix := "kernels.yaml:" + line + ":"
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, prefix) && strings.Contains(g, sub) }) {
					t.Errorf("missing error %q at line %s in:\n%v", sub, line, err)
				}
			}
			if n := countPos(err); n != len(want) {
				t.Errorf("got %d errors, want %d:\n%v", n, len(want), err)
			}
		})
	}
}

// countPos counts the PosErrors joined in err.
func countPos(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n := 0
		for _, e := range j.Unwrap() {
			n += countPos(e)
		}
		return n
	}
	var pe *PosError
	if errors.As(err, &pe) {
		return 1
	}
	return 1
}

func TestShippedFile(t *testing.T) {
	f, err := Load("../kernels.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	distros := map[string]bool{}
	for _, g := range f.Groups {
		distros[g.Distro] = true
	}
	for _, d := range Distros() {
		if !distros[d] {
			t.Errorf("kernels.yaml has no %s group", d)
		}
	}
	r := ResolverFunc(func(_ context.Context, q KernelQuery) (string, error) {
		versions := map[string]string{"bullseye": "5.10.0-32", "bookworm": "6.1.0-50", "bookworm-security": "6.12.117+deb12",
			"trixie": "6.12.117+deb13", "sid": "7.2.13+deb14", "experimental": "7.3"}
		if q.Distro == "ubuntu" {
			return ubuntuMeta(q)
		}
		v, ok := versions[q.Suites[0]]
		if !ok {
			return "", fmt.Errorf("unexpected suites %q at %s", q.Suites, q.Mirror)
		}
		return v + "-" + q.Flavour, nil
	})
	f, err = Resolve(context.Background(), f, r)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	ts, err := Expand(f)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	names := map[string]bool{}
	for _, x := range ts {
		names[x.Name()] = true
	}
	for _, n := range []string{"debian-11/5.10.0-32-amd64", "debian-12/6.1.0-50-rt-amd64", "debian-12-security/6.12.117+deb12-amd64",
		"debian-13/6.12.117+deb13-amd64", "debian-sid/7.2.13+deb14-amd64", "debian-experimental/7.3-amd64",
		"centos-7/3.10.0-1160.119.1.el7.x86_64"} {
		if !names[n] {
			t.Errorf("no target %s", n)
		}
	}
}

func TestParseRelease(t *testing.T) {
	tests := map[string]struct {
		in                  string
		major, minor, patch int
		extra               string
		bad                 bool
	}{
		"debian":       {in: "6.1.0-50-amd64", major: 6, minor: 1, extra: "-50-amd64"},
		"debian 6.12":  {in: "6.12.117+deb13-rt-amd64", major: 6, minor: 12, patch: 117, extra: "+deb13-rt-amd64"},
		"experimental": {in: "7.3-amd64", major: 7, minor: 3, extra: "-amd64"},
		"el7":          {in: "3.10.0-1160.119.1.el7.x86_64", major: 3, minor: 10, extra: "-1160.119.1.el7.x86_64"},
		"bare":         {in: "6.8", major: 6, minor: 8},
		"empty":        {in: "", bad: true},
		"one number":   {in: "6-amd64", bad: true},
		"space":        {in: "6.1.0 -50", bad: true},
		"slash":        {in: "6.1.0/../x", bad: true},
		"letters":      {in: "linux-6.1", bad: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := ParseRelease(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseRelease(%q) = %+v, want error", tc.in, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Major != tc.major || r.Minor != tc.minor || r.Patch != tc.patch || r.Extra != tc.extra || r.String() != tc.in {
				t.Errorf("ParseRelease(%q) = %+v", tc.in, r)
			}
		})
	}
	a, _ := ParseRelease("6.1.0-50-amd64")
	b, _ := ParseRelease("6.12.117+deb12-amd64")
	if a.Compare(b) >= 0 || b.Compare(a) <= 0 || a.Compare(a) != 0 {
		t.Errorf("Compare: 6.1 vs 6.12 ordered wrongly")
	}
}

func targetsNamed(n int) []Target {
	var ts []Target
	for i := range n {
		ts = append(ts, Target{Group: "g" + strconv.Itoa(i%3), Kernel: fmt.Sprintf("6.1.0-%d-amd64", i)})
	}
	return ts
}

func TestShard(t *testing.T) {
	for _, tc := range []struct{ targets, shards int }{{0, 1}, {1, 1}, {7, 3}, {10, 4}, {3, 5}, {100, 7}} {
		t.Run(fmt.Sprintf("%d/%d", tc.targets, tc.shards), func(t *testing.T) {
			ts := targetsNamed(tc.targets)
			rev := slices.Clone(ts)
			slices.Reverse(rev)
			seen := map[string]int{}
			for i := range tc.shards {
				a, err := Shard(ts, i, tc.shards)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := Shard(rev, i, tc.shards)
				if !slices.EqualFunc(a, b, func(x, y Target) bool { return x.Name() == y.Name() }) {
					t.Errorf("shard %d depends on input order", i)
				}
				if lo, hi := tc.targets/tc.shards, (tc.targets+tc.shards-1)/tc.shards; len(a) < lo || len(a) > hi {
					t.Errorf("shard %d has %d targets, want %d..%d", i, len(a), lo, hi)
				}
				for _, x := range a {
					seen[x.Name()]++
				}
			}
			if len(seen) != tc.targets {
				t.Errorf("shards cover %d targets, want %d", len(seen), tc.targets)
			}
			for n, c := range seen {
				if c != 1 {
					t.Errorf("%s in %d shards", n, c)
				}
			}
		})
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 2}, {2, 2}} {
		if _, err := Shard(nil, bad[0], bad[1]); err == nil {
			t.Errorf("Shard(%d, %d) succeeded", bad[0], bad[1])
		}
	}
}

func TestMakePlan(t *testing.T) {
	amd64 := func(Target) string { return "amd64" }
	p, err := MakePlan(targetsNamed(3), 5, amd64)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Include) != 3 {
		t.Fatalf("plan has %d shards, want 3 (empty ones dropped): %+v", len(p.Include), p)
	}
	total := 0
	for _, s := range p.Include {
		if !regexp.MustCompile(`^[1-5]/5$`).MatchString(s.Shard) || s.Count != len(s.Targets) || s.Arch != "amd64" {
			t.Errorf("bad shard entry %+v", s)
		}
		total += s.Count
	}
	if total != 3 {
		t.Errorf("plan covers %d targets, want 3", total)
	}
}

// TestMakePlanArches checks that each architecture's targets are cut into
// shards of their own, and that a build given a shard's arch and --shard
// (OnArch, then Shard) selects exactly the targets the plan lists.
func TestMakePlanArches(t *testing.T) {
	ts := targetsNamed(10)
	runsOn := func(t Target) string {
		if t.Group == "g1" {
			return "arm64"
		}
		return "amd64"
	}
	p, err := MakePlan(ts, 2, runsOn)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Include {
		got = append(got, s.Arch+" "+s.Shard)
		i, n := 0, 0
		fmt.Sscanf(s.Shard, "%d/%d", &i, &n)
		sel, err := Shard(OnArch(ts, s.Arch, runsOn), i-1, n)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tg := range sel {
			if runsOn(tg) != s.Arch {
				t.Errorf("%s: %s runs on %s", s.Arch, tg.Name(), runsOn(tg))
			}
			names = append(names, tg.Name())
		}
		if !slices.Equal(names, s.Targets) {
			t.Errorf("%s %s: a build selects %v, the plan lists %v", s.Arch, s.Shard, names, s.Targets)
		}
	}
	if want := []string{"amd64 1/2", "amd64 2/2", "arm64 1/2", "arm64 2/2"}; !slices.Equal(got, want) {
		t.Errorf("plan shards %v, want %v", got, want)
	}
}

func TestResolve(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("valid.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	r := ResolverFunc(func(_ context.Context, q KernelQuery) (string, error) {
		calls = append(calls, q.Mirror+" "+strings.Join(q.Suites, ",")+" "+q.Flavour)
		if q.Flavour == "amd64" {
			return "7.3-amd64", nil // already listed: not added twice
		}
		return "7.2.13+deb14-" + q.Flavour, nil
	})
	g, err := Resolve(context.Background(), f, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{DefaultDebianMirror + " sid amd64", DefaultDebianMirror + " sid rt-amd64"}
	if !slices.Equal(calls, want) {
		t.Errorf("resolver calls %q, want %q", calls, want)
	}
	if got := g.Groups[1].Kernels; !slices.Equal(got, []string{"7.3-amd64", "7.2.13+deb14-rt-amd64"}) {
		t.Errorf("kernels after Resolve = %q", got)
	}
	if got := f.Groups[1].Kernels; len(got) != 1 {
		t.Errorf("Resolve modified its input: %q", got)
	}
	ts, err := Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 4 {
		t.Fatalf("Expand: %d targets, want 4", len(ts))
	}
	sid := ts[2]
	if sid.Name() != "debian-sid/7.2.13+deb14-rt-amd64" || sid.Packages[0] != "linux-headers-7.2.13+deb14-rt-amd64" ||
		sid.KernelDir != "/usr/src/linux-headers-7.2.13+deb14-rt-amd64" || sid.Family != FamilyDeb || sid.Debootstrap.Suite != "sid" {
		t.Errorf("sid target = %+v", sid)
	}
	if u := ts[3].URLs[0]; u != "http://vault.centos.org/7.9.2009/updates/x86_64/Packages/kernel-devel-3.10.0-1160.119.1.el7.x86_64.rpm sha256:5f2c1b0d9e8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b" {
		t.Errorf("URL template expanded to %q", u)
	}
	if ts[0].KernelDir != "/usr/src/kernels/5.14.0-427.13.1.el9_4.x86_64" {
		t.Errorf("rocky kernel dir %q", ts[0].KernelDir)
	}

	failing := ResolverFunc(func(context.Context, KernelQuery) (string, error) { return "", errors.New("index down") })
	if _, err := Resolve(context.Background(), f, failing); err == nil || !strings.Contains(err.Error(), "index down") {
		t.Errorf("Resolve with a failing resolver: %v", err)
	}
	dup := ResolverFunc(func(context.Context, KernelQuery) (string, error) {
		return "5.14.0-427.13.1.el9_4.x86_64", nil
	})
	if _, err := Resolve(context.Background(), f, dup); err == nil || !strings.Contains(err.Error(), "already built by group") {
		t.Errorf("Resolve with a kernel of another group: %v", err)
	}
}

func TestFilterAndTargetFor(t *testing.T) {
	f, err := Load("testdata/valid/kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := Expand(f)
	if got := Filter(ts, regexp.MustCompile(`^debian-`)); len(got) != 1 || got[0].Group != "debian-sid" {
		t.Errorf("Filter = %+v", got)
	}
	if got := Filter(ts, nil); len(got) != len(ts) {
		t.Errorf("Filter(nil) dropped targets")
	}
	tg, err := TargetFor(f, "sid", "7.2.13+deb14-amd64", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Group != "debian-sid" || tg.Kernel != "7.2.13+deb14-amd64" || tg.Sources[0].Apt == "" {
		t.Errorf("TargetFor = %+v", tg)
	}
	if _, err := TargetFor(f, "sid", "not-a-kernel", "amd64"); err == nil {
		t.Error("TargetFor accepted a malformed release")
	}
	if _, err := TargetFor(f, "bullseye", "5.10.0-32-amd64", "amd64"); err == nil {
		t.Error("TargetFor found a group for an untracked suite")
	}
}

// ubuntuMeta stands for Ubuntu's indexes: the kernel each tracked
// metapackage of kernels.yaml points at. A generic or lowlatency
// metapackage points at its line's ABI with its own flavour; a cloud one at
// the cloud kernel of its release. jammy's HWE line and noble's GA line
// share a release, as Ubuntu's do.
func ubuntuMeta(q KernelQuery) (string, error) {
	type lines struct{ ga, hwe, cloud string }
	rel := map[string]lines{
		"xenial":   {"4.4.0-210", "4.15.0-142", "4.15.0-1113"},
		"bionic":   {"4.15.0-213", "5.4.0-150", "5.4.0-1109"},
		"focal":    {"5.4.0-216", "5.15.0-139", "5.15.0-1089"},
		"jammy":    {"5.15.0-160", "6.8.0-155", "6.8.0-1074"},
		"noble":    {"6.8.0-155", "7.0.0-44", "7.0.0-1021"},
		"questing": {"6.17.0-20", "", "6.17.0-1020"},
		"resolute": {"7.0.0-30", "", "7.0.0-1024"},
	}
	want := []string{q.Suites[0], q.Suites[0] + "-updates", q.Suites[0] + "-security"}
	if !slices.Equal(q.Suites, want) || q.Archive != debian.ArchiveUbuntu || q.Mirror != DefaultUbuntuMirror {
		return "", fmt.Errorf("ubuntu query %+v: want suites %q of %s, Ubuntu's keys", q, want, DefaultUbuntuMirror)
	}
	l, ok := rel[q.Suites[0]]
	flavour, hwe := q.Flavour, ""
	if i := strings.Index(flavour, "-hwe-"); i >= 0 {
		flavour, hwe = flavour[:i], l.hwe
	}
	switch {
	case !ok:
	case hwe != "" && (flavour == "generic" || flavour == "lowlatency"):
		return hwe + "-" + flavour, nil
	case hwe == "" && (flavour == "generic" || flavour == "lowlatency"):
		return l.ga + "-" + flavour, nil
	case hwe == "" && slices.Contains([]string{"aws", "azure", "gcp"}, flavour):
		return l.cloud + "-" + flavour, nil
	}
	return "", fmt.Errorf("unexpected ubuntu query %+v", q)
}

// TestLoadTargetsMatching: an anchored filter leaves out, before anything
// is resolved, the groups none of whose targets can match it.
func TestLoadTargetsMatching(t *testing.T) {
	var (
		mu    sync.Mutex
		asked []string
	)
	r := ResolverFunc(func(_ context.Context, q KernelQuery) (string, error) {
		mu.Lock()
		asked = append(asked, q.Suites[0])
		mu.Unlock()
		if q.Distro == "ubuntu" {
			return ubuntuMeta(q)
		}
		return "7.2.13+deb14-" + q.Flavour, nil
	})
	tests := []struct {
		only      string
		wantAsked []string // suites resolved
	}{
		{`^debian-sid/7\.2\.13\+deb14-amd64$`, []string{"sid"}},
		{`^ubuntu-24\.04/`, []string{"noble", "noble", "noble", "noble", "noble", "noble"}},
		{`^debian-12-security/`, []string{"bookworm-security"}},
		{`^(debian-sid|ubuntu-24\.04)/`, nil}, // alternation: every group
		{`/7\.2\.13\+deb14-amd64$`, nil},      // not anchored: every group
	}
	for _, tc := range tests {
		asked = nil
		only := regexp.MustCompile(tc.only)
		ts, err := LoadTargetsMatching(context.Background(), "../kernels.yaml", r, only)
		if err != nil {
			t.Fatalf("%s: %v", tc.only, err)
		}
		if len(Filter(ts, only)) == 0 {
			t.Errorf("%s: no target left", tc.only)
		}
		slices.Sort(asked)
		if tc.wantAsked == nil {
			if len(asked) < 10 {
				t.Errorf("%s: resolved %q, want every tracked group", tc.only, asked)
			}
		} else if !slices.Equal(asked, tc.wantAsked) {
			t.Errorf("%s: resolved %q, want %q", tc.only, asked, tc.wantAsked)
		}
	}
}

// TestTargetForArch: a suite's amd64 and arm64 groups both track it; a
// kernel goes to the group of its architecture.
func TestTargetForArch(t *testing.T) {
	f, err := Load("../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ suite, kernel, arch, want string }{
		{"bookworm", "6.1.0-50-amd64", "amd64", "debian-12/amd64"},
		{"bookworm", "6.1.0-50-arm64", "arm64", "debian-12-arm64/arm64"},
		{"bookworm", "6.1.0-50-cloud-arm64", "", "debian-12-arm64/arm64"},
		{"experimental", "7.3-arm64", "arm64", "debian-experimental-arm64/arm64"},
		// Ubuntu's releases do not name their arch: the arm64 group
		// pins the same release the amd64 group tracks.
		{"noble", "6.8.0-155-generic", "amd64", "ubuntu-24.04/amd64"},
		{"noble", "6.8.0-155-generic", "arm64", "ubuntu-24.04-arm64/arm64"},
		{"jammy", "5.15.0-208-generic", "amd64", "ubuntu-22.04/amd64"},
	}
	for _, tc := range tests {
		tg, err := TargetFor(f, tc.suite, tc.kernel, tc.arch)
		if err != nil {
			t.Errorf("%s %s: %v", tc.kernel, tc.arch, err)
			continue
		}
		if got := tg.Group + "/" + tg.Arch; got != tc.want {
			t.Errorf("%s %s: group/arch %s, want %s", tc.kernel, tc.arch, got, tc.want)
		}
	}
	if _, err := TargetFor(f, "bookworm", "6.1.0-50-arm64", "amd64"); err == nil {
		t.Error("TargetFor found an amd64 group for an arm64 kernel")
	}
}
