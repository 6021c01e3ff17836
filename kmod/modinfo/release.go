package modinfo

import (
	"fmt"
	"strings"
)

// MaxReleaseLen is the longest kernel release: __NEW_UTS_LEN, the size of
// utsname.release without its NUL.
const MaxReleaseLen = 64

// ReleaseError says a string cannot be a kernel release. Releases name
// directories (/lib/modules/RELEASE, the module cache) and are passed to
// depmod, so only a single path element that is not an option is one.
type ReleaseError struct {
	Release string
	// Reason says what is wrong: "empty", "too long", "a path element"
	// ("." or ".."), "contains '/'", "contains a space, control or
	// non-ASCII byte" or "starts with '-'".
	Reason string
}

func (e *ReleaseError) Error() string {
	return fmt.Sprintf("kernel release %q: %s", e.Release, e.Reason)
}

// ValidateRelease returns a *ReleaseError unless release can be a kernel
// release as uname -r prints it: 1 to MaxReleaseLen printable ASCII bytes
// with no '/' or space, not "." or "..", not starting with '-'. It allows
// what distributions use, such as "6.12.117+deb12-amd64" and
// "5.14.0-503.el9_5.x86_64".
func ValidateRelease(release string) error {
	reason := ""
	switch {
	case release == "":
		reason = "empty"
	case len(release) > MaxReleaseLen:
		reason = fmt.Sprintf("too long (%d bytes, at most %d)", len(release), MaxReleaseLen)
	case release == "." || release == "..":
		reason = "a path element"
	case strings.Contains(release, "/"):
		reason = "contains '/'"
	case strings.IndexFunc(release, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		reason = "contains a space, control or non-ASCII byte"
	case release[0] == '-':
		reason = "starts with '-'"
	default:
		return nil
	}
	return &ReleaseError{Release: release, Reason: reason}
}
