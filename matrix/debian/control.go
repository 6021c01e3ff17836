package debian

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Package is one stanza of a Packages index.
type Package struct {
	Name        string // Package
	Version     string // Version
	Source      string // Source, without the version in parentheses
	Filename    string // path of the .deb below the mirror's root
	Size        int64  // size of the .deb in bytes
	SHA256      string // hex SHA256 of the .deb
	Depends     string // raw Depends field
	Description string // first line of Description
	// BaseURL is the mirror root the index came from (e.g.
	// http://deb.debian.org/debian); Filename is relative to it.
	BaseURL string
	// Fields holds every field of the stanza by its name as written.
	Fields map[string]string
}

// ErrMalformed is returned for an index that is not a Packages file.
var ErrMalformed = errors.New("malformed Packages index")

// maxLine bounds one line of an index; Debian's longest fields are a few
// kilobytes.
const maxLine = 1 << 20

// ParsePackages reads a Packages index (RFC 822-style stanzas separated by
// blank lines). Continuation lines are kept, joined by newlines.
func ParsePackages(r io.Reader) ([]Package, error) {
	return ParsePackagesFunc(r, nil)
}

// ParsePackagesFunc is ParsePackages keeping only the stanzas whose package
// name keep accepts (nil keeps all). A stanza that names its package first,
// as Debian's indexes do, is skipped without being parsed: a suite's index
// holds some 60,000 stanzas and callers usually want a few hundred.
func ParsePackagesFunc(r io.Reader, keep func(name string) bool) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var (
		out     []Package
		fields  map[string]string
		last    string
		lineNum int
		skip    bool // in a stanza keep refused
	)
	flush := func() error {
		if fields == nil {
			return nil
		}
		p, err := packageFromFields(fields)
		if err != nil {
			return fmt.Errorf("stanza ending at line %d: %w", lineNum, err)
		}
		out = append(out, p)
		fields, last = nil, ""
		return nil
	}
	for sc.Scan() {
		lineNum++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			skip = false
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		// Skipped lines are never turned into strings: most of an index is.
		if skip {
			continue
		}
		if fields == nil && keep != nil {
			if name, ok := bytes.CutPrefix(b, []byte("Package:")); ok && !keep(string(bytes.TrimSpace(name))) {
				skip = true
				continue
			}
		}
		line := string(b)
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation without a field: %w", lineNum, ErrMalformed)
			}
			fields[last] += "\n" + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("line %d: no field name: %w", lineNum, ErrMalformed)
		}
		if fields == nil {
			fields = make(map[string]string)
		}
		last = name
		fields[name] = strings.TrimSpace(value)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading Packages index: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if keep != nil {
		// Stanzas that did not start with their Package field were parsed
		// whole; filter them now.
		kept := out[:0]
		for _, p := range out {
			if keep(p.Name) {
				kept = append(kept, p)
			}
		}
		out = kept
	}
	return out, nil
}

// FilterPackages copies to w, byte for byte, the stanzas of the Packages
// index r whose package name keep accepts, each followed by a blank line.
// ParsePackagesFunc(filtered, nil) then gives what ParsePackagesFunc(r,
// keep) gives, from a file a hundred times smaller.
func FilterPackages(r io.Reader, w io.Writer, keep func(name string) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	bw := bufio.NewWriter(w)
	var (
		stanza  bytes.Buffer
		name    string
		started bool // a line of the current stanza was seen
		skip    bool // the stanza named a package keep refused
	)
	flush := func() error {
		if started && !skip && keep(name) {
			if _, err := bw.Write(stanza.Bytes()); err != nil {
				return err
			}
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		stanza.Reset()
		name, started, skip = "", false, false
		return nil
	}
	for sc.Scan() {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if skip {
			continue
		}
		if v, ok := bytes.CutPrefix(b, []byte("Package:")); ok {
			name = string(bytes.TrimSpace(v))
			if !keep(name) {
				skip = true
				continue
			}
		}
		started = true
		stanza.Write(b)
		stanza.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading Packages index: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	return bw.Flush()
}

func packageFromFields(f map[string]string) (Package, error) {
	p := Package{
		Name:     f["Package"],
		Version:  f["Version"],
		Filename: f["Filename"],
		SHA256:   strings.ToLower(f["SHA256"]),
		Depends:  f["Depends"],
		Fields:   f,
	}
	if p.Name == "" {
		return Package{}, fmt.Errorf("no Package field: %w", ErrMalformed)
	}
	p.Source, _, _ = strings.Cut(f["Source"], " ")
	if p.Source == "" {
		p.Source = p.Name
	}
	p.Description, _, _ = strings.Cut(f["Description"], "\n")
	if s := f["Size"]; s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Package{}, fmt.Errorf("package %q: bad Size %q: %w", p.Name, s, ErrMalformed)
		}
		p.Size = n
	}
	return p, nil
}

// DependsNames returns the package names of a Depends-style field, taking
// the first alternative of each "a | b" group and dropping version
// constraints and architecture qualifiers.
func DependsNames(field string) []string {
	var names []string
	for _, group := range strings.Split(field, ",") {
		alt, _, _ := strings.Cut(group, "|")
		alt = strings.TrimSpace(alt)
		if i := strings.IndexAny(alt, " (["); i >= 0 {
			alt = alt[:i]
		}
		alt, _, _ = strings.Cut(alt, ":")
		if alt != "" {
			names = append(names, alt)
		}
	}
	return names
}
