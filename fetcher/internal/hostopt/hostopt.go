// Package hostopt is what the functional options of the host's packages
// (fetcher, install, loader, watch) have in common: applying a list of
// them, the settings more than one package takes, and the bodies of the
// options that take a path, a name or a kernel release, each in one place.
// Each package keeps its own Option type and With functions, which are its
// API; their options structs embed the settings below.
package hostopt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Apply calls each of opts on o, in order, and returns o, or the first
// error an option returns.
func Apply[O any, F ~func(*O) error](o *O, opts []F) (*O, error) {
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Logger is embedded by the options of the packages that report progress.
type Logger struct {
	// Log receives one line per step; io.Discard unless set.
	Log io.Writer
}

// SetLogger sets Log to w, or to io.Discard when w is nil: the argument of
// WithLogger.
func (l *Logger) SetLogger(w io.Writer) error {
	if w == nil {
		w = io.Discard
	}
	l.Log = w
	return nil
}

// SizeCap is embedded by the options of the packages that decompress a
// module.
type SizeCap struct {
	// MaxSize caps a decompressed module, in bytes.
	MaxSize int64
}

// SetMaxSize sets MaxSize to n, which must be positive: the argument of
// WithMaxSize.
func (c *SizeCap) SetMaxSize(n int64) error {
	if n <= 0 {
		return fmt.Errorf("WithMaxSize: %d is not a positive size", n)
	}
	c.MaxSize = n
	return nil
}

// RootFS is embedded by the options of the packages that read /proc and
// /sys to explain what they see.
type RootFS struct {
	// FS is a view of the root directory; os.DirFS("/") unless set.
	FS fs.FS
}

// SetFS sets FS to fsys, which must not be nil: the argument of WithFS.
func (r *RootFS) SetFS(fsys fs.FS) error {
	if fsys == nil {
		return errors.New("WithFS: nil fs.FS")
	}
	r.FS = fsys
	return nil
}

// NonEmpty sets *dst to v, refusing an empty v: the body of the options
// that take a path or a name. The error names the option and what it takes
// ("WithRoot: empty directory").
func NonEmpty(dst *string, v, option, what string) error {
	if v == "" {
		return fmt.Errorf("%s: empty %s", option, what)
	}
	*dst = v
	return nil
}

// SetChecked sets *dst to v once check accepts it, and otherwise returns
// check's error with the option's name: the body of WithRelease, whose
// check is modinfo.ValidateRelease. (hostopt takes the check rather than
// importing modinfo, which would bring the decompressors into every
// binary, dnsmon-watch's too.)
func SetChecked(dst *string, v, option string, check func(string) error) error {
	if err := check(v); err != nil {
		return fmt.Errorf("%s: %w", option, err)
	}
	*dst = v
	return nil
}
