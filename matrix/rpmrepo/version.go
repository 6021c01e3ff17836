package rpmrepo

import (
	"cmp"
	"strings"
)

// CompareVersions orders two RPM version or VERSION-RELEASE strings the way
// rpm's rpmvercmp does (no epochs): it returns -1, 0 or +1. Strings are
// split into runs of digits and of letters, separators are skipped, a
// numeric run is newer than an alphabetic one, '~' sorts before everything
// and '^' after the end of the other string.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	isAlnum := func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for len(a) > 0 || len(b) > 0 {
		for len(a) > 0 && !isAlnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for len(b) > 0 && !isAlnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		// Tilde: older than anything, even the end.
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		// Caret: newer than the end, older than anything else.
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case len(a) == 0:
				return -1
			case len(b) == 0:
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if len(a) == 0 || len(b) == 0 {
			break
		}
		numeric := isDigit(a[0])
		split := func(s string) (string, string) {
			i := 0
			for i < len(s) && (numeric && isDigit(s[i]) || !numeric && isAlnum(s[i]) && !isDigit(s[i])) {
				i++
			}
			return s[:i], s[i:]
		}
		sa, ra := split(a)
		sb, rb := split(b)
		if len(sb) == 0 {
			// Different kinds: the numeric run is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				return cmp.Compare(len(sa), len(sb))
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return -1
	}
	return 1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
