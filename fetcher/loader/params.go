package loader

import (
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// ValidateParams checks that every parameter is name=value with a name of
// letters, digits, '_' or '-', a non-empty value without spaces, quotes or
// control characters, and that no name repeats. The error wraps ErrBadParam.
func ValidateParams(params []string) error {
	seen := map[string]bool{}
	for _, p := range params {
		name, value, ok := strings.Cut(p, "=")
		switch {
		case !ok:
			return fmt.Errorf("%w: %q is not name=value (e.g. ring_size=8192)", ErrBadParam, p)
		case name == "":
			return fmt.Errorf("%w: %q has no name before '='", ErrBadParam, p)
		case value == "":
			return fmt.Errorf("%w: %q has no value after '='", ErrBadParam, p)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return fmt.Errorf("%w: parameter name %q may hold only letters, digits, '_' and '-'", ErrBadParam, name)
			}
		}
		for _, r := range value {
			if r <= ' ' || r == '"' || r == '\'' || r == 0x7f {
				return fmt.Errorf("%w: value of %s may not hold spaces, quotes or control characters: %q", ErrBadParam, name, value)
			}
		}
		key := strings.ReplaceAll(name, "-", "_") // the kernel treats '-' and '_' alike
		if seen[key] {
			return fmt.Errorf("%w: parameter %s given twice", ErrBadParam, name)
		}
		seen[key] = true
	}
	return nil
}

// checkDeclared refuses parameters the module does not declare: the kernel
// would only log "unknown parameter ignored" and load without them.
func checkDeclared(info *modinfo.Info, params []string) error {
	if len(info.Params) == 0 {
		return nil
	}
	for _, p := range params {
		name, _, _ := strings.Cut(p, "=")
		if _, ok := info.Param(strings.ReplaceAll(name, "-", "_")); !ok {
			return fmt.Errorf("%w: module %s has no parameter %q; it takes %s", ErrBadParam, info.Name, name, describeParams(info))
		}
	}
	return nil
}

// describeParams lists a module's parameters for a sentence.
func describeParams(info *modinfo.Info) string {
	if len(info.Params) == 0 {
		return "no parameters"
	}
	var parts []string
	for _, p := range info.Params {
		s := p.Name
		if p.Type != "" {
			s += " (" + p.Type + ")"
		}
		if p.Description != "" {
			s += ": " + p.Description
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
