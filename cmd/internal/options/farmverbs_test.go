package options

import (
	"testing"
	"time"
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
		"reindex":               {v: &Reindex{Repo: "r/x", Key: "k"}},
		"reindex unsigned":      {v: &Reindex{Repo: "r/x", Unsigned: true}},
		"reindex no key":        {v: &Reindex{Repo: "r/x"}, wantErr: "--key FILE is required"},
		"reindex key, unsigned": {v: &Reindex{Repo: "r/x", Key: "k", Unsigned: true}, wantErr: "exclude each other"},
		"reindex expired":       {v: &Reindex{Repo: "r/x", Key: "k", Expires: expires(t, "2001-01-01T00:00:00Z")}, wantErr: "in the past"},
		"publish expires":       {v: &Publish{From: "d", To: "r/x", Key: "k", Expires: expires(t, "7d")}},
		"reindex no repo":       {v: &Reindex{}, wantErr: "--repo"},
		"discover":              {v: &Discover{File: "kernels.yaml"}},
		"discover bad only":     {v: &Discover{File: "kernels.yaml", Only: "[a"}, wantErr: "--only"},
		"discover no file name": {v: &Discover{}, wantErr: "-f"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			checkValidate(t, tc.v.Validate(), tc.wantErr)
		})
	}
	b := &Bundle{From: "r/x", Out: "b.tar.zst", Only: "^6\\.1"}
	if err := b.Validate(); err != nil || b.OnlyRE == nil || !b.OnlyRE.MatchString("6.1.0-50-amd64") {
		t.Errorf("Bundle.Validate did not compile --only: %v %v", b.OnlyRE, err)
	}
}

func expires(t *testing.T, s string) Expires {
	t.Helper()
	var e Expires
	if err := e.Set(s); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExpires(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":                   now.Add(7 * 24 * time.Hour),
		"36h":                  now.Add(36 * time.Hour),
		"2027-01-01T00:00:00Z": time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		"":                     {},
	} {
		var e Expires
		if in != "" {
			if err := e.Set(in); err != nil {
				t.Fatalf("Set(%q): %v", in, err)
			}
		}
		if got := e.Time(now); !got.Equal(want) {
			t.Errorf("--expires %q: %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"0d", "-1h", "soon", "7 days"} {
		var e Expires
		if err := e.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
