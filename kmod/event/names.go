package event

import (
	"strconv"
	"strings"
)

// nameOf returns names[v], or prefix and the number for a value past the
// names this release knows: the String of Reason, Kind and Rcode.
func nameOf(names []string, v int, prefix string) string {
	if v < len(names) {
		return names[v]
	}
	return prefix + strconv.Itoa(v)
}

// parseName is nameOf's inverse: the index of s in names, or the number
// after prefix; ok is false for anything else.
func parseName(names []string, s, prefix string) (v uint16, ok bool) {
	for i, n := range names {
		if n == s {
			return uint16(i), true
		}
	}
	if n, found := strings.CutPrefix(s, prefix); found {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), true
		}
	}
	return 0, false
}

// bitName names one bit of a flags field.
type bitName[T ~uint8 | ~uint16] struct {
	bit  T
	name string
}

// setNames returns the names of the bits of v that are set, in the order
// of names; nil when none is.
func setNames[T ~uint8 | ~uint16](names []bitName[T], v T) []string {
	var out []string
	for _, b := range names {
		if v&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

// bitOf returns the bit named s; ok is false for a name not in names.
func bitOf[T ~uint8 | ~uint16](names []bitName[T], s string) (T, bool) {
	for _, b := range names {
		if b.name == s {
			return b.bit, true
		}
	}
	return 0, false
}
