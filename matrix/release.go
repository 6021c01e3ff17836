package matrix

import (
	"fmt"
	"regexp"
	"strconv"
)

// Release is a kernel release as `uname -r` prints it, parsed once.
//
// Only the leading version numbers are interpreted here; what follows them
// (ABI number, distribution tag, flavour, architecture) is kept verbatim in
// Extra and read by the distribution's rules.
type Release struct {
	// Raw is the release string exactly as written, e.g. "6.1.0-56-amd64".
	Raw string
	// Major, Minor and Patch are the leading version numbers; Patch is 0
	// when the release has only two ("7.3-amd64").
	Major, Minor, Patch int
	// Extra is everything after the version numbers, e.g. "-56-amd64",
	// "+deb13-amd64" or "-1160.119.1.el7.x86_64".
	Extra string
}

// releaseRE matches MAJOR.MINOR[.PATCH] followed by an optional suffix that
// starts with a separator and uses only characters found in `uname -r`.
var releaseRE = regexp.MustCompile(`^([0-9]+)\.([0-9]+)(?:\.([0-9]+))?((?:[-+.~_][0-9A-Za-z.+~_-]*)?)$`)

// ParseRelease parses a `uname -r` string.
func ParseRelease(s string) (Release, error) {
	m := releaseRE.FindStringSubmatch(s)
	if m == nil {
		return Release{}, fmt.Errorf("parsing kernel release %q: want MAJOR.MINOR[.PATCH][SUFFIX]", s)
	}
	r := Release{Raw: s, Extra: m[4]}
	var err error
	if r.Major, err = strconv.Atoi(m[1]); err != nil {
		return Release{}, fmt.Errorf("parsing kernel release %q: %w", s, err)
	}
	if r.Minor, err = strconv.Atoi(m[2]); err != nil {
		return Release{}, fmt.Errorf("parsing kernel release %q: %w", s, err)
	}
	if m[3] != "" {
		if r.Patch, err = strconv.Atoi(m[3]); err != nil {
			return Release{}, fmt.Errorf("parsing kernel release %q: %w", s, err)
		}
	}
	return r, nil
}

// String returns the release as written.
func (r Release) String() string { return r.Raw }

// Version returns "MAJOR.MINOR.PATCH".
func (r Release) Version() string { return fmt.Sprintf("%d.%d.%d", r.Major, r.Minor, r.Patch) }

// Compare orders releases by version numbers, then by Raw.
func (r Release) Compare(o Release) int {
	for _, d := range [...]int{r.Major - o.Major, r.Minor - o.Minor, r.Patch - o.Patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	switch {
	case r.Raw < o.Raw:
		return -1
	case r.Raw > o.Raw:
		return 1
	}
	return 0
}
