package artifact

import (
	"errors"
	"strings"
	"testing"
)

func TestModuleTag(t *testing.T) {
	cases := map[string]struct {
		version, release, arch string
		want                   string
	}{
		"debian":          {"0.1.0", "6.1.0-56-amd64", "amd64", "0.1.0__6.1.0-56-amd64__amd64"},
		"plus":            {"0.1.0", "6.12.117+deb12-amd64", "amd64", "0.1.0__6.12.117_pdeb12-amd64__amd64"},
		"underscore":      {"0.1.0", "4.18.0-553.16.1.el8_10.x86_64", "amd64", "0.1.0__4.18.0-553.16.1.el8_u10.x86_u64__amd64"},
		"tilde":           {"1.0.0-rc1", "5.4.0~rc1", "arm64", "1.0.0-rc1__5.4.0_trc1__arm64"},
		"other byte":      {"0.1.0", "6.1:x", "amd64", "0.1.0__6.1_x3ax__amd64"},
		"leading dot":     {"0.1.0", ".6", "amd64", "0.1.0___x2e6__amd64"},
		"plus vs escaped": {"0.1.0", "6_p", "amd64", "0.1.0__6_up__amd64"},
	}
	seen := map[string]string{}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ModuleTag(c.version, c.release, c.arch)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("ModuleTag = %q, want %q", got, c.want)
			}
			if !ValidTag(got) {
				t.Errorf("%q is not a valid OCI tag", got)
			}
			v, r, a, err := ParseModuleTag(got)
			if err != nil || v != c.version || r != c.release || a != c.arch {
				t.Errorf("ParseModuleTag(%q) = %q %q %q %v", got, v, r, a, err)
			}
		})
		if prev, dup := seen[c.want]; dup {
			t.Errorf("%s and %s share tag %q", prev, name, c.want)
		}
		seen[c.want] = name
	}
}

func TestLongModuleTag(t *testing.T) {
	rel := strings.Repeat("6.1.0-", 30) + "amd64"
	tag, err := ModuleTag("0.1.0", rel, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidTag(tag) || !strings.HasPrefix(tag, "0.1.0__h") {
		t.Errorf("long tag %q", tag)
	}
	if _, _, _, err := ParseModuleTag(tag); !errors.Is(err, ErrHashedTag) {
		t.Errorf("ParseModuleTag(%q) = %v, want ErrHashedTag", tag, err)
	}
}

func TestParseTagsRejects(t *testing.T) {
	for name, tag := range map[string]string{
		"module tag as version": "0.1.0__6.1__amd64",
		"signature tag":         "sha256-abcd.sig",
		"non-canonical escape":  "0.1_x2e0",
		"dangling escape":       "0.1_",
		"unknown escape":        "0.1_q",
	} {
		t.Run(name, func(t *testing.T) {
			if v, err := ParseVersionTag(tag); err == nil {
				t.Errorf("ParseVersionTag(%q) = %q, want error", tag, v)
			}
		})
	}
	for name, v := range map[string]string{"empty": "", "sha256 prefix": "sha256-1", "too long": strings.Repeat("1", 61)} {
		t.Run("version "+name, func(t *testing.T) {
			if tag, err := VersionTag(v); err == nil {
				t.Errorf("VersionTag(%q) = %q, want error", v, tag)
			}
		})
	}
}
