package fetcher

import (
	"slices"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func desc(release, distro string) v1.Descriptor {
	return v1.Descriptor{Annotations: map[string]string{artifact.AnnotationRelease: release, artifact.AnnotationArch: "amd64", artifact.AnnotationDistro: distro}}
}

func TestNearest(t *testing.T) {
	descs := []v1.Descriptor{
		desc("6.1.0-56-amd64", "debian-12"), desc("6.1.0-40-amd64", "debian-12"), desc("6.1.0-56-cloud-amd64", "debian-12"),
		desc("6.12.117+deb12-amd64", "debian-12"), desc("6.12.57+deb13-amd64", "debian-13"), desc("5.10.0-32-amd64", "debian-11"),
		desc("6.1.0-1012-aws", "ubuntu-22.04"),
	}
	for name, c := range map[string]struct {
		release, distro string
		want            []string
	}{
		"same flavour first": {"6.1.0-57-amd64", "debian-12", []string{"6.1.0-56-amd64", "6.1.0-40-amd64", "6.1.0-56-cloud-amd64"}},
		"cloud":              {"6.1.0-57-cloud-amd64", "debian-12", []string{"6.1.0-56-cloud-amd64", "6.1.0-56-amd64", "6.1.0-40-amd64"}},
		"trixie":             {"6.12.60+deb13-amd64", "debian-13", []string{"6.12.57+deb13-amd64", "6.12.117+deb12-amd64", "6.1.0-40-amd64"}},
		"other distro only":  {"6.1.0-1013-aws", "ubuntu-22.04", []string{"6.1.0-1012-aws"}},
		"unknown distro":     {"6.1.0-1013-aws", "gentoo", []string{"6.1.0-1012-aws", "6.1.0-56-amd64", "6.1.0-56-cloud-amd64"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := nearest(descs, c.release, "amd64", c.distro, 3)
			if !slices.Equal(got, c.want) {
				t.Errorf("nearest(%q) = %v, want %v", c.release, got, c.want)
			}
		})
	}
}

func TestOSRelease(t *testing.T) {
	for name, c := range map[string]struct {
		body, want string
	}{
		"debian": {"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", "debian-12"},
		"sid":    {"ID=debian\n", "debian"},
		"alma":   {"ID=\"almalinux\"\nVERSION_ID='9.4'\n# comment\n", "alma-9.4"},
		"empty":  {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			kv := ParseOSRelease([]byte(c.body))
			h := Host{Distro: kv["ID"], DistroVersion: kv["VERSION_ID"]}
			if got := h.DistroName(); got != c.want {
				t.Errorf("DistroName = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHostESM(t *testing.T) {
	tests := []struct {
		h    Host
		want bool
	}{
		{Host{Distro: "ubuntu", DistroVersion: "18.04"}, true},
		{Host{Distro: "ubuntu", DistroVersion: "16.04"}, true},
		{Host{Distro: "ubuntu", DistroVersion: "20.04"}, true},
		{Host{Distro: "ubuntu", DistroVersion: "22.04"}, false},
		{Host{Distro: "ubuntu", DistroVersion: "24.04"}, false},
		{Host{Distro: "debian", DistroVersion: "18.04"}, false},
		{Host{Distro: "ubuntu"}, false},
	}
	for _, tc := range tests {
		if got := tc.h.ESM(); got != tc.want {
			t.Errorf("%+v: ESM() = %v, want %v", tc.h, got, tc.want)
		}
	}
}

// TestNoModuleErrorESM: on a release past standard support the message
// says where an ESM kernel's headers are and how to build for it, instead
// of a kernels: line that would find none.
func TestNoModuleErrorESM(t *testing.T) {
	e := &NoModuleError{Source: "oci-layout:out", Version: "0.4.0", Release: "4.15.0-240-generic", Arch: "amd64",
		Distro: "ubuntu-18.04", Nearest: []string{"4.15.0-213-generic"}}
	plain := e.Error()
	e.ESM = true
	esm := e.Error()
	for _, want := range []string{"nearest available for ubuntu-18.04: 4.15.0-213-generic", "Ubuntu Pro (ESM)", "kernels: [4.15.0-240-generic]", "method: urls", `README "ESM kernels"`} {
		if !strings.Contains(esm, want) {
			t.Errorf("ESM message lacks %q:\n%s", want, esm)
		}
	}
	if strings.Contains(esm, "add this line to the kernels: list") {
		t.Errorf("ESM message offers a kernels: line the public archive cannot build:\n%s", esm)
	}
	if strings.Contains(plain, "ESM") || !strings.Contains(plain, "add this line to the kernels: list of the ubuntu-18.04 group") {
		t.Errorf("message off ESM:\n%s", plain)
	}
}
