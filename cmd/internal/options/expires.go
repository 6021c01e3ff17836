package options

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Expires is the --expires flag of the verbs that write the version index:
// how long hosts accept it, as a duration from now ("168h", "7d") or an
// RFC 3339 time. Unset, the index does not expire.
type Expires struct {
	raw string
	d   time.Duration
	at  time.Time
}

// addExpiresFlag registers --expires on fs.
func addExpiresFlag(fs *flag.FlagSet, e *Expires) {
	fs.Var(e, "expires", "hosts refuse the version index after this: a duration from now (168h, 7d) or an RFC 3339 time (default: never; an expiring index must be re-published, e.g. by reindex, before it expires)")
}

func (e *Expires) String() string { return e.raw }

// Set parses a duration ("36h", or whole days "7d") or an RFC 3339 time.
func (e *Expires) Set(s string) error {
	*e = Expires{raw: s}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		e.at = t
		return nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q: want a duration (168h, 7d) or an RFC 3339 time", s)
		}
		e.d = time.Duration(n) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q: want a positive duration (168h, 7d) or an RFC 3339 time", s)
	}
	e.d = d
	return nil
}

// Time returns when the index expires, counted from now for a duration;
// zero when unset.
func (e *Expires) Time(now time.Time) time.Time {
	if e.d > 0 {
		return now.Add(e.d)
	}
	return e.at
}

// check refuses an expiry that is already past: every host would refuse
// the index at once.
func (e *Expires) check(now time.Time) error {
	if t := e.Time(now); !t.IsZero() && !t.After(now) {
		return errors.New("--expires " + e.raw + " is in the past: hosts would refuse the index at once")
	}
	return nil
}
