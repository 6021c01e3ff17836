package options

import (
	"strings"
	"testing"
)

func TestFarmVerbsValidate(t *testing.T) {
	tests := map[string]struct {
		v       interface{ Validate() error }
		wantErr string // empty: valid
	}{
		"keygen":                {v: &Keygen{Dir: "."}},
		"keygen no dir":         {v: &Keygen{}, wantErr: "--dir"},
		"publish":               {v: &Publish{From: "d", To: "oci-layout:o", Key: "k"}},
		"publish no to":         {v: &Publish{From: "d", Key: "k"}, wantErr: "--to"},
		"publish no key":        {v: &Publish{From: "d", To: "r/x"}, wantErr: "keygen"},
		"bundle":                {v: &Bundle{From: "r/x", Out: "b.tar.zst", Only: "^6"}},
		"bundle no from":        {v: &Bundle{Out: "b.tar.zst"}, wantErr: "--from"},
		"bundle wrong name":     {v: &Bundle{From: "r/x", Out: "b.tar"}, wantErr: ".tar.zst"},
		"bundle bad only":       {v: &Bundle{From: "r/x", Out: "b.tar.zst", Only: "("}, wantErr: "--only"},
		"bundle two arches":     {v: &Bundle{From: "r/x", Out: "b.tar.zst", Arches: Strings{"amd64", "arm64"}}},
		"bundle uname arch":     {v: &Bundle{From: "r/x", Out: "b.tar.zst", Arches: Strings{"aarch64"}}, wantErr: "--arch arm64"},
		"reindex":               {v: &Reindex{Repo: "r/x"}},
		"reindex no repo":       {v: &Reindex{}, wantErr: "--repo"},
		"discover":              {v: &Discover{File: "kernels.yaml"}},
		"discover bad only":     {v: &Discover{File: "kernels.yaml", Only: "[a"}, wantErr: "--only"},
		"discover no file name": {v: &Discover{}, wantErr: "-f"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.v.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate: %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
	b := &Bundle{From: "r/x", Out: "b.tar.zst", Only: "^6\\.1"}
	if err := b.Validate(); err != nil || b.OnlyRE == nil || !b.OnlyRE.MatchString("6.1.0-50-amd64") {
		t.Errorf("Bundle.Validate did not compile --only: %v %v", b.OnlyRE, err)
	}
}
