package matrix_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
)

// TestGroupIndexes checks where each group of the project's kernels.yaml is
// discovered from, and which flavours are looked for.
func TestGroupIndexes(t *testing.T) {
	f, err := matrix.Load("../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		indexes  []string // PackageIndex.String()
		flavours []string
	}{
		"centos-7": {[]string{"http://vault.centos.org/7.9.2009/os/x86_64/", "http://vault.centos.org/7.9.2009/updates/x86_64/"}, []string{""}},
		"rocky-9":  {[]string{"https://dl.rockylinux.org/pub/rocky/9/AppStream/x86_64/os/"}, []string{""}},
		"alma-8":   {[]string{"https://repo.almalinux.org/almalinux/8/AppStream/x86_64/os/"}, []string{""}},
		"ubuntu-24.04": {[]string{
			"http://archive.ubuntu.com/ubuntu noble main (amd64)",
			"http://archive.ubuntu.com/ubuntu noble-updates main (amd64)",
			"http://archive.ubuntu.com/ubuntu noble-security main (amd64)",
		}, []string{"generic", "lowlatency", "aws", "azure", "gcp"}},
		"amazonlinux-2": {[]string{
			"http://amazonlinux.us-east-1.amazonaws.com/2/core/latest/x86_64/mirror.list",
			"http://amazonlinux.us-east-1.amazonaws.com/2/extras/kernel-5.10/latest/x86_64/mirror.list",
		}, []string{""}},
		"amazonlinux-2023":    {[]string{"https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list"}, []string{""}},
		"debian-12":           {[]string{"http://deb.debian.org/debian bookworm main (amd64)"}, []string{"amd64", "rt-amd64"}},
		"debian-12-security":  {[]string{"http://deb.debian.org/debian-security bookworm-security main (amd64)"}, []string{"amd64"}},
		"debian-experimental": {[]string{"http://deb.debian.org/debian experimental main (amd64)"}, []string{"amd64"}},
	}
	seen := 0
	for _, g := range f.Groups {
		w, ok := want[g.Name]
		if !ok {
			continue
		}
		seen++
		idxs, err := matrix.GroupIndexes(g)
		if err != nil {
			t.Errorf("%s: %v", g.Name, err)
			continue
		}
		var got []string
		for _, i := range idxs {
			got = append(got, i.String())
		}
		if strings.Join(got, "|") != strings.Join(w.indexes, "|") {
			t.Errorf("%s: indexes %q, want %q", g.Name, got, w.indexes)
		}
		fl, err := matrix.GroupFlavours(g)
		if err != nil || strings.Join(fl, "|") != strings.Join(w.flavours, "|") {
			t.Errorf("%s: flavours %q (%v), want %q", g.Name, fl, err, w.flavours)
		}
	}
	if seen != len(want) {
		t.Errorf("checked %d groups, want %d", seen, len(want))
	}
}

func TestHeadersRelease(t *testing.T) {
	deb := matrix.Group{Name: "d", Distro: "debian", Release: "12", Arch: "amd64"}
	ubu := matrix.Group{Name: "u", Distro: "ubuntu", Release: "24.04", Arch: "amd64"}
	el := matrix.Group{Name: "r", Distro: "rocky", Release: "9", Arch: "amd64"}
	tests := []struct {
		name string
		g    matrix.Group
		p    matrix.IndexedPackage
		want string // "" for not a headers package
	}{
		{"debian headers", deb, matrix.IndexedPackage{Name: "linux-headers-6.1.0-50-amd64"}, "6.1.0-50-amd64"},
		{"debian common", deb, matrix.IndexedPackage{Name: "linux-headers-6.1.0-50-common"}, ""},
		{"debian versioned metapackage", deb, matrix.IndexedPackage{Name: "linux-headers-6.12-amd64", Summary: "Header files for Linux amd64 configuration (meta-package)"}, ""},
		{"debian experimental", deb, matrix.IndexedPackage{Name: "linux-headers-7.3-amd64", Summary: "Linux 7.3-rc7 for 64-bit PCs (module development)"}, "7.3-amd64"},
		{"debian image", deb, matrix.IndexedPackage{Name: "linux-image-6.1.0-50-amd64"}, ""},
		{"ubuntu aws", ubu, matrix.IndexedPackage{Name: "linux-headers-6.8.0-1018-aws"}, "6.8.0-1018-aws"},
		{"ubuntu common", ubu, matrix.IndexedPackage{Name: "linux-headers-6.8.0-50"}, ""},
		{"ubuntu metapackage", ubu, matrix.IndexedPackage{Name: "linux-headers-generic"}, ""},
		{"el9 kernel-devel", el, matrix.IndexedPackage{Name: "kernel-devel", Version: "5.14.0", RPMRelease: "503.14.1.el9_5", Arch: "x86_64"}, "5.14.0-503.14.1.el9_5.x86_64"},
		{"el8 kernel-devel in an el9 group", el, matrix.IndexedPackage{Name: "kernel-devel", Version: "4.18.0", RPMRelease: "553.16.1.el8_10", Arch: "x86_64"}, ""},
		{"other arch", el, matrix.IndexedPackage{Name: "kernel-devel", Version: "5.14.0", RPMRelease: "503.14.1.el9_5", Arch: "aarch64"}, ""},
		{"kernel-rt-devel", el, matrix.IndexedPackage{Name: "kernel-rt-devel", Version: "5.14.0", RPMRelease: "503.14.1.el9_5", Arch: "x86_64"}, ""},
	}
	for _, tc := range tests {
		got, ok := matrix.HeadersRelease(tc.g, tc.p)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: HeadersRelease = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestDiscoverValidation(t *testing.T) {
	tests := map[string]struct {
		release  string // of the Ubuntu group
		discover string // its discover: value; "" for none
		wantErr  string
	}{
		"yum source on ubuntu": {"24.04", `{sources: [{yum: {id: x, baseurl: "http://example.org/"}}]}`, "discover: yum source on a deb distribution"},
		"bad apt line":         {"24.04", `{sources: [{apt: "http://example.org noble"}]}`, "is not a `deb URL SUITE"},
		"unknown release falls back to an error at discovery, not load": {"99.04", "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			group := fmt.Sprintf("  - name: u\n    distro: ubuntu\n    release: %q\n    image: docker.io/library/ubuntu:%s\n    headers: {method: apt, packages: [x]}\n",
				tc.release, tc.release)
			if tc.discover != "" {
				group += "    discover: " + tc.discover + "\n"
			}
			group += "    kernels: [6.8.0-49-generic]\n"
			f, err := matrix.Parse("k.yaml", []byte("groups:\n"+group))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := matrix.GroupIndexes(f.Groups[0]); !errors.Is(err, matrix.ErrNoIndex) {
				t.Errorf("GroupIndexes: %v, want ErrNoIndex", err)
			}
		})
	}
}
