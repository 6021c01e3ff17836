package builder

import (
	"crypto/sha256"
	_ "embed" // scripts
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

var (
	//go:embed scripts/headers-deb.sh
	headersDebScript string
	//go:embed scripts/headers-rpm.sh
	headersRPMScript string
	//go:embed scripts/build.sh
	buildScript string
)

// recipeVersion changes when the way images are made changes in a way the
// scripts do not show.
const recipeVersion = "2"

// Image name prefixes of the images the builder makes.
const (
	BaseRepo    = "dnsmon-base"
	HeadersRepo = "dnsmon-headers"
)

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain data is hashed; a failure is a programming error that
		// must not silently collide.
		return "unhashable:" + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// baseRecipe is what makes a debootstrap base image.
type baseRecipe struct {
	Version string   `json:"version"`
	Suite   string   `json:"suite"`
	Mirror  string   `json:"mirror"`
	Variant string   `json:"variant"`
	Include []string `json:"include"`
	Arch    string   `json:"arch"`
	// Components other than main alone, the pockets and the archive's keys
	// (omitted when empty, so the images of Debian suites keep their tags).
	Components []string       `json:"components,omitempty"`
	Pockets    []string       `json:"pockets,omitempty"`
	Archive    debian.Archive `json:"archive,omitempty"`
	// Upgrade is the script that upgrades the image from its pockets.
	Upgrade string `json:"upgrade,omitempty"`
}

func newBaseRecipe(t matrix.Target) baseRecipe {
	d := t.Debootstrap
	inc := slices.Clone(d.Include)
	slices.Sort(inc)
	r := baseRecipe{Version: recipeVersion, Suite: d.Suite, Mirror: d.Mirror,
		Variant: "minbase", Include: inc, Arch: imageArch(t), Pockets: d.Pockets, Archive: d.Archive}
	if !slices.Equal(d.Components, []string{"main"}) {
		r.Components = d.Components
	}
	if len(d.Pockets) > 0 {
		r.Upgrade = headersDebScript
	}
	return r
}

// BaseImage is the image reference a target's headers image starts from:
// its registry image, or "dnsmon-base:SUITE-HASH12" for debootstrap.
func BaseImage(t matrix.Target) string {
	if t.Debootstrap == nil {
		return t.Image
	}
	return BaseRepo + ":" + tagSafe(t.Debootstrap.Suite) + "-" + hashJSON(newBaseRecipe(t))[:12]
}

// headersEnv is the environment of the headers script for t.
func headersEnv(t matrix.Target) []string {
	env := []string{
		"DNSMON_METHOD=" + t.Method,
		"DNSMON_PKGS=" + strings.Join(t.Packages, " "),
		// One "URL sha256:HEX" per line.
		"DNSMON_URLS=" + strings.Join(t.URLs, "\n"),
		"DNSMON_TOOLCHAIN=" + strings.Join(t.Toolchain, " "),
		"DNSMON_KDIR=" + t.KernelDir,
	}
	if t.ReplaceSources {
		env = append(env, "DNSMON_REPLACE=1")
	}
	var apt, yum []string
	for _, s := range t.Sources {
		if s.Apt != "" {
			apt = append(apt, s.Apt)
		}
		if s.Yum != nil {
			yum = append(yum, s.Yum.ID+" "+s.Yum.BaseURL+" "+s.Yum.GPGKey)
		}
	}
	env = append(env, "DNSMON_SOURCES="+strings.Join(apt, "\n"), "DNSMON_REPOS="+strings.Join(yum, "\n"))
	return env
}

func headersScript(t matrix.Target) string {
	if t.Family == matrix.FamilyRPM {
		return headersRPMScript
	}
	return headersDebScript
}

// imageHash is the hex SHA-256 of everything that makes t's headers image:
// the base image (reference or debootstrap recipe), the headers script and
// its inputs. A registry image is identified by its reference, which covers
// its content once it names a digest: the engine hashes targets it pinned
// (engine.pin), with the digest kernels.yaml gives or the one the tag
// named when asked.
func imageHash(t matrix.Target) string {
	r := struct {
		Version  string      `json:"version"`
		Base     string      `json:"base"`
		Boot     *baseRecipe `json:"bootstrap,omitempty"`
		Headers  string      `json:"headers_script"`
		Env      []string    `json:"env"`
		Platform string      `json:"platform"`
	}{recipeVersion, t.Image, nil, headersScript(t), headersEnv(t), "linux/" + t.Arch}
	if t.Debootstrap != nil {
		b := newBaseRecipe(t)
		r.Boot = &b
	}
	return hashJSON(r)
}

// RecipeHash is the hex SHA-256 of everything that makes t's module
// besides its source: the headers image (imageHash) and the build script.
// An edited build script rebuilds every module but no image.
func RecipeHash(t matrix.Target) string {
	return hashJSON(struct {
		Image string `json:"image"`
		Build string `json:"build_script"`
	}{imageHash(t), buildScript})
}

// HeadersImage is the tag of t's headers image:
// "dnsmon-headers:KERNEL-HASH12" (HASH12: the first 12 hex digits of
// imageHash), with characters a tag cannot hold ('+') replaced by '_'.
func HeadersImage(t matrix.Target) string {
	return HeadersRepo + ":" + tagSafe(t.Kernel) + "-" + imageHash(t)[:12]
}

// tagSafe maps s onto the characters of a Docker tag.
func tagSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 100 {
		out = out[:100]
	}
	return out
}

// targetError prefixes errors with the target name.
func targetError(t matrix.Target, what string, err error) error {
	return fmt.Errorf("%s %q: %w", what, t.Name(), err)
}
