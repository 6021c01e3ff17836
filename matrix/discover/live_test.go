package discover_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
	"github.com/dnsmon/dnsmon/matrix/discover"
)

// TestLiveDebian discovers the Debian groups of the project's kernels.yaml
// against deb.debian.org (indexes through the shared cache): every group
// must be read, and each tracked group must report, among its releases,
// the newest kernel of each tracked flavour that matrix/debian resolves.
func TestLiveDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("reads Debian's package indexes")
	}
	ctx := context.Background()
	f, err := matrix.Load("../../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	results, err := discover.Discover(ctx, f, discover.WithOnly(regexp.MustCompile(`^debian-`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no Debian group in kernels.yaml")
	}
	c, err := debian.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		t.Logf("%s: new %v, newest %v", r.Group, r.New, r.Newest)
		if len(r.Available) == 0 {
			t.Errorf("%s: no kernel headers found", r.Group)
		}
		g := groupNamed(f, r.Group)
		if g.Track == nil {
			continue
		}
		for _, fl := range g.Track.Flavours {
			k, err := c.NewestKernel(ctx, debian.Suite{Name: g.Track.Suite, BaseURL: g.Track.Mirror, Component: "main", Arch: g.Arch}, fl)
			if err != nil {
				t.Fatalf("%s: %v", r.Group, err)
			}
			if !slices.Contains(r.Newest, k.Release) || !slices.Contains(r.New, k.Release) {
				t.Errorf("%s: newest %s kernel %s is not reported as newest and new (newest %v, new %v)", r.Group, fl, k.Release, r.Newest, r.New)
			}
		}
	}
}

func groupNamed(f *matrix.File, name string) matrix.Group {
	for _, g := range f.Groups {
		if g.Name == name {
			return g
		}
	}
	return matrix.Group{}
}

// TestLiveUbuntu discovers the Ubuntu groups of the project's kernels.yaml
// against Ubuntu's archive: each tracked flavour (and so each line:
// generic-hwe-24.04) must resolve, as a build resolves it, to a kernel of
// that flavour whose headers the group's indexes carry.
func TestLiveUbuntu(t *testing.T) {
	if testing.Short() {
		t.Skip("reads Ubuntu's package indexes")
	}
	ctx := context.Background()
	f, err := matrix.Load("../../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := matrix.DefaultResolver()
	if err != nil {
		t.Fatal(err)
	}
	results, err := discover.Discover(ctx, f, discover.WithOnly(regexp.MustCompile(`^ubuntu-[0-9.]+$`)), discover.WithResolver(r))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 7 {
		t.Fatalf("%d Ubuntu groups discovered, want 16.04 to 26.04 (7)", len(results))
	}
	for _, res := range results {
		g := groupNamed(f, res.Group)
		t.Logf("%s: tracking %v", res.Group, res.Tracking)
		if len(res.Tracking) != len(g.Track.Flavours) {
			t.Errorf("%s: tracking %v, want one kernel per flavour of %v", res.Group, res.Tracking, g.Track.Flavours)
			continue
		}
		for i, tk := range res.Tracking {
			fl, _, _ := strings.Cut(tk.Flavour, "-hwe-")
			if tk.Flavour != g.Track.Flavours[i] || !strings.HasSuffix(tk.Release, "-"+fl) {
				t.Errorf("%s: flavour %s tracks %s", res.Group, tk.Flavour, tk.Release)
			}
			if !slices.Contains(res.Available, tk.Release) {
				t.Errorf("%s: tracked %s %s is not among the releases the indexes carry", res.Group, tk.Flavour, tk.Release)
			}
		}
	}
}
