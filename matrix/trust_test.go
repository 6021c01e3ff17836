package matrix

import (
	"strings"
	"testing"
)

func TestParseImage(t *testing.T) {
	const hex = "0e2f3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f"
	tests := map[string]struct {
		in   string
		want ImageRef
		bad  string
	}{
		"short name":      {in: "centos:7", want: ImageRef{Name: "docker.io/library/centos", Tag: "7"}},
		"tag and digest":  {in: "docker.io/rockylinux/rockylinux:9@sha256:" + hex, want: ImageRef{Name: "docker.io/rockylinux/rockylinux", Tag: "9", Digest: "sha256:" + hex}},
		"digest only":     {in: "registry.test:5000/base@sha256:" + hex, want: ImageRef{Name: "registry.test:5000/base", Digest: "sha256:" + hex}},
		"no tag":          {in: "almalinux", want: ImageRef{Name: "docker.io/library/almalinux"}},
		"short digest":    {in: "centos:7@sha256:0e2f", bad: "invalid"},
		"other algorithm": {in: "centos:7@sha512:" + hex + hex, bad: "pin it with a sha256 digest"},
		"upper case":      {in: "CentOS:7", bad: "must be lowercase"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseImage(tc.in)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("ParseImage(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.bad)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseImage(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestYumSourceKeys checks that targets carry the key each yum source's
// packages are checked against: the one kernels.yaml gives, or the
// distribution's own.
func TestYumSourceKeys(t *testing.T) {
	f, err := Load("testdata/valid/kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := Expand(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"rocky-9":  "https://example.test/RPM-GPG-KEY-extras",
		"centos-7": "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
	}
	for _, tg := range ts {
		w, ok := want[tg.Group]
		if !ok {
			continue
		}
		delete(want, tg.Group)
		if len(tg.Sources) != 1 || tg.Sources[0].Yum == nil || tg.Sources[0].Yum.GPGKey != w {
			t.Errorf("%s: sources %+v, want one yum source with gpgkey %q", tg.Name(), tg.Sources, w)
		}
	}
	if len(want) != 0 {
		t.Errorf("no targets for %v", want)
	}
}

// TestGPGKeyDefaults checks every RPM distribution of the shipped file has
// a default key for its releases, so its yum sources need no gpgkey.
func TestGPGKeyDefaults(t *testing.T) {
	f, err := Load("../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		d, err := LookupDistro(g.Distro)
		if err != nil || d.Family() != FamilyRPM {
			continue
		}
		k, ok := d.(GPGKeyer)
		if !ok {
			t.Errorf("%s: RPM distribution without a GPGKeyer", g.Distro)
			continue
		}
		if key := k.GPGKey(g.Release); !strings.HasPrefix(key, "file:///etc/pki/rpm-gpg/RPM-GPG-KEY-") || checkGPGKey(key) != nil {
			t.Errorf("%s %s: default key %q", g.Distro, g.Release, key)
		}
	}
}
