package matrix

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/distribution/reference"
)

// GPGKeyer is implemented by RPM distributions that know where their
// images keep the distribution's package signing key, the default GPGKey
// of a group's yum sources.
type GPGKeyer interface {
	// GPGKey returns the "file:///…" key of release, "" when unknown.
	GPGKey(release string) string
}

// rpmGPGKey is the directory RPM distributions keep their keys in.
const rpmGPGKey = "file:///etc/pki/rpm-gpg/"

// checkGPGKey accepts the keys yum can read without trusting the network:
// a file in the image, or an https:// URL. A key fetched over plain http
// would let the network choose the key the packages are checked against.
func checkGPGKey(s string) error {
	if strings.ContainsAny(s, " \t\n'\"") {
		return fmt.Errorf("gpgkey %q contains quotes or spaces", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("gpgkey %q: %w", s, err)
	}
	switch {
	case u.Scheme == "file" && u.Host == "" && path.IsAbs(u.Path) && path.Clean(u.Path) == u.Path:
		return nil
	case u.Scheme == "https" && u.Host != "":
		return nil
	}
	return fmt.Errorf("gpgkey %q is neither file:///ABSOLUTE/PATH (a key in the image) nor an https:// URL", s)
}

// ImageRef is a registry image reference, split.
type ImageRef struct {
	// Name is the fully qualified repository, e.g.
	// "docker.io/library/centos".
	Name string
	// Tag is the tag, "" when the reference has none.
	Tag string
	// Digest is the pinned manifest digest, "sha256:HEX", or "".
	Digest string
}

// ParseImage parses a group's image reference: "NAME[:TAG][@sha256:HEX]",
// with Docker's normalisation of short names ("centos:7" is
// "docker.io/library/centos:7").
func ParseImage(s string) (ImageRef, error) {
	n, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return ImageRef{}, fmt.Errorf("image %q: %w (want NAME[:TAG][@sha256:HEX], HEX 64 digits)", s, err)
	}
	r := ImageRef{Name: n.Name()}
	if t, ok := n.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := n.(reference.Digested); ok {
		if d.Digest().Algorithm() != "sha256" {
			return ImageRef{}, fmt.Errorf("image %q: pin it with a sha256 digest", s)
		}
		r.Digest = d.Digest().String()
	}
	return r, nil
}
