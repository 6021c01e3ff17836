// Package hostopt is what the functional options of the host's packages
// (fetcher, install, loader, watch) have in common: applying a list of
// them, and the settings more than one package takes, checked in one place.
// Each package keeps its own Option type and With functions, which are its
// API; their options structs embed the settings below.
package hostopt

import (
	"fmt"
	"io"
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
