package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Tag encoding.
//
// OCI tags match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. Module versions, kernel
// releases and architectures are encoded part by part with '_' as the escape
// byte:
//
//	A-Z a-z 0-9 . -   kept (but '.' or '-' first in a part becomes _x2e / _x2d)
//	_                 _u
//	+                 _p
//	~                 _t
//	any other byte    _xHH (two lower-case hex digits)
//
// An encoded part therefore never holds "__", and the parts of a module tag
// are joined with "__":
//
//	version tag (the per-version index):  ENC(version)                       0.1.0
//	module tag (one kernel's manifest):   ENC(version)__ENC(release)__ENC(arch)
//	                                       0.1.0__6.12.117_pdeb12-amd64__amd64
//	signature tag (cosign):               sha256-HEX.sig
//
// The encoding is injective, so distinct keys never share a tag, and a
// version tag (no "__") never equals a module tag. Decoding accepts only
// canonical encodings. When a module tag would exceed 128 bytes it becomes
// ENC(version)__h + the hex SHA-256 of "version\nrelease\narch": still
// unique, no longer decodable; the annotations always carry the truth.
const maxTagLen = 128

var tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ErrHashedTag is returned by ParseModuleTag for a tag that was hashed
// because the key was too long to encode.
var ErrHashedTag = errors.New("module tag is hashed: read the annotations")

// ValidTag reports whether s is a valid OCI tag.
func ValidTag(s string) bool { return tagRE.MatchString(s) }

func encodePart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case (c == '.' || c == '-') && i > 0:
			b.WriteByte(c)
		case c == '_':
			b.WriteString("_u")
		case c == '+':
			b.WriteString("_p")
		case c == '~':
			b.WriteString("_t")
		default:
			fmt.Fprintf(&b, "_x%02x", c)
		}
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func decodePart(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("decoding tag part %q: dangling '_'", s)
		}
		i++
		switch s[i] {
		case 'u':
			b.WriteByte('_')
		case 'p':
			b.WriteByte('+')
		case 't':
			b.WriteByte('~')
		case 'x':
			if i+2 >= len(s) {
				return "", fmt.Errorf("decoding tag part %q: short _x escape", s)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("decoding tag part %q: bad _x escape", s)
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		default:
			return "", fmt.Errorf("decoding tag part %q: unknown escape _%c", s, s[i])
		}
	}
	out := b.String()
	if encodePart(out) != s {
		return "", fmt.Errorf("decoding tag part %q: not canonical", s)
	}
	return out, nil
}

// VersionTag returns the tag of a module version's index.
func VersionTag(version string) (string, error) {
	if version == "" {
		return "", errors.New("empty module version")
	}
	t := encodePart(version)
	if len(t) > 60 || strings.HasPrefix(t, "sha256-") {
		return "", fmt.Errorf("module version %q cannot be a tag: keep it under 60 bytes and not starting with sha256-", version)
	}
	return t, nil
}

// ParseVersionTag returns the module version a version tag names, or an
// error when tag is not one (module tags, signature tags, foreign tags).
func ParseVersionTag(tag string) (string, error) {
	if strings.Contains(tag, "__") || strings.HasPrefix(tag, "sha256-") {
		return "", fmt.Errorf("tag %q is not a version tag", tag)
	}
	return decodePart(tag)
}

// ModuleTag returns the tag of one module manifest.
func ModuleTag(version, release, arch string) (string, error) {
	vt, err := VersionTag(version)
	if err != nil {
		return "", err
	}
	if release == "" || arch == "" {
		return "", fmt.Errorf("module tag for %q: empty kernel release or arch", version)
	}
	t := vt + "__" + encodePart(release) + "__" + encodePart(arch)
	if len(t) <= maxTagLen {
		return t, nil
	}
	sum := sha256.Sum256([]byte(version + "\n" + release + "\n" + arch))
	return vt + "__h" + hex.EncodeToString(sum[:]), nil
}

// ParseModuleTag reverses ModuleTag. It returns ErrHashedTag for hashed tags.
func ParseModuleTag(tag string) (version, release, arch string, err error) {
	parts := strings.Split(tag, "__")
	switch len(parts) {
	case 2:
		if strings.HasPrefix(parts[1], "h") && len(parts[1]) == 65 {
			return "", "", "", fmt.Errorf("parsing module tag %q: %w", tag, ErrHashedTag)
		}
	case 3:
		out := make([]string, 3)
		for i, p := range parts {
			if out[i], err = decodePart(p); err != nil {
				return "", "", "", fmt.Errorf("parsing module tag %q: %w", tag, err)
			}
		}
		return out[0], out[1], out[2], nil
	}
	return "", "", "", fmt.Errorf("parsing module tag %q: want VERSION__RELEASE__ARCH", tag)
}

// SignatureTag returns the tag cosign stores a manifest's signatures under.
func SignatureTag(h v1.Hash) string { return h.Algorithm + "-" + h.Hex + ".sig" }
