package options

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Prune holds the flags of dnsmon-farm prune.
type Prune struct {
	// File is the kernels file: the header trees of the kernels it lists
	// that their mirror no longer serves are kept.
	File string
	// KeepDays removes what was not used for that many days ("" for no
	// age limit).
	KeepDays string
	// MaxSize then removes the least recently used entries until the rest
	// fits ("" for no size limit): bytes, or K, M, G, T (powers of 1024).
	MaxSize string
	// DryRun prints what would be removed and removes nothing.
	DryRun bool

	// MaxAge and MaxBytes are KeepDays and MaxSize, parsed by Validate;
	// HasMaxAge and HasMaxBytes say whether each was given.
	MaxAge                 time.Duration
	MaxBytes               int64
	HasMaxAge, HasMaxBytes bool
}

// AddPruneFlags registers the flags of dnsmon-farm prune on fs.
func AddPruneFlags(fs *flag.FlagSet, p *Prune) {
	fs.StringVar(&p.File, "f", DefaultKernelsFile, "kernels file: the header trees of the kernels it lists that their mirror no longer serves are kept")
	fs.StringVar(&p.KeepDays, "keep-days", "", "remove header trees, downloaded packages and builder images not used for `N` days (0: all of them)")
	fs.StringVar(&p.MaxSize, "max-size", "", "then remove the least recently used until the rest takes at most `SIZE`: bytes, or with K, M, G or T (powers of 1024), e.g. 20G")
	fs.BoolVar(&p.DryRun, "dry-run", false, "print what would be removed, remove nothing")
}

// maxKeepDays bounds --keep-days so that the age stays a time.Duration.
const maxKeepDays = 36500

// Validate checks the flags and parses --keep-days and --max-size,
// reporting every problem at once.
func (p *Prune) Validate() error {
	var errs []error
	if p.File == "" {
		errs = append(errs, errors.New("-f: empty kernels file"))
	}
	if p.KeepDays == "" && p.MaxSize == "" {
		errs = append(errs, errors.New("give --keep-days N, --max-size SIZE or both: prune removes nothing without a limit"))
	}
	p.HasMaxAge, p.HasMaxBytes = false, false
	if p.KeepDays != "" {
		n, err := strconv.Atoi(p.KeepDays)
		if err != nil || n < 0 || n > maxKeepDays {
			errs = append(errs, fmt.Errorf("--keep-days %q: want a whole number of days from 0 to %d", p.KeepDays, maxKeepDays))
		} else {
			p.MaxAge, p.HasMaxAge = time.Duration(n)*24*time.Hour, true
		}
	}
	if p.MaxSize != "" {
		n, err := ParseSize(p.MaxSize)
		if err != nil {
			errs = append(errs, fmt.Errorf("--max-size: %w", err))
		} else {
			p.MaxBytes, p.HasMaxBytes = n, true
		}
	}
	return errors.Join(errs...)
}

// ParseSize reads a size in bytes: a whole number, optionally followed by
// K, M, G or T (either case) for powers of 1024: "500M", "20G".
func ParseSize(s string) (int64, error) {
	num, shift := s, 0
	if s != "" {
		if j := strings.Index("KMGT", strings.ToUpper(s[len(s)-1:])); j >= 0 {
			num, shift = s[:len(s)-1], 10*(j+1)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q: want a whole number of bytes, optionally followed by K, M, G or T (powers of 1024), e.g. 20G or 500M", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n << shift, nil
}
