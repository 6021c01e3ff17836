package modinfo

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRelease(t *testing.T) {
	for name, c := range map[string]struct {
		release    string
		wantReason string // "" when valid
	}{
		"debian":              {release: "6.1.0-56-amd64"},
		"debian backport":     {release: "6.12.117+deb12-amd64"},
		"rhel":                {release: "5.14.0-503.el9_5.x86_64"},
		"ubuntu":              {release: "6.8.0-45-generic"},
		"tilde":               {release: "6.1.0~rc1"},
		"longest":             {release: strings.Repeat("a", MaxReleaseLen)},
		"empty":               {release: "", wantReason: "empty"},
		"too long":            {release: strings.Repeat("a", MaxReleaseLen+1), wantReason: "too long"},
		"dot":                 {release: ".", wantReason: "a path element"},
		"dot-dot":             {release: "..", wantReason: "a path element"},
		"slash":               {release: "6.1/../../etc", wantReason: "contains '/'"},
		"leading slash":       {release: "/etc", wantReason: "contains '/'"},
		"dot-dot then slash":  {release: "../x", wantReason: "contains '/'"},
		"NUL":                 {release: "6.1.0\x00-amd64", wantReason: "control"},
		"space":               {release: "6.1.0 amd64", wantReason: "space"},
		"newline":             {release: "6.1.0-56-amd64\n", wantReason: "control"},
		"tab":                 {release: "6.1\t0", wantReason: "control"},
		"DEL":                 {release: "6.1\x7f", wantReason: "non-ASCII"},
		"non-ASCII":           {release: "6.1.0-ü", wantReason: "non-ASCII"},
		"an option to depmod": {release: "-a", wantReason: "starts with '-'"},
	} {
		t.Run(name, func(t *testing.T) {
			err := ValidateRelease(c.release)
			if c.wantReason == "" {
				if err != nil {
					t.Fatalf("ValidateRelease(%q) = %v, want nil", c.release, err)
				}
				return
			}
			var re *ReleaseError
			if !errors.As(err, &re) || re.Release != c.release || !strings.Contains(re.Reason, c.wantReason) {
				t.Fatalf("ValidateRelease(%q) = %v, want a *ReleaseError saying %q", c.release, err, c.wantReason)
			}
		})
	}
}
