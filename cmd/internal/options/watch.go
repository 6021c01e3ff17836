package options

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/dnsmon/dnsmon/fetcher/watch"
)

// Watch is dnsmon-watch's command line.
type Watch struct {
	JSON    bool          // --json: one JSON object per line
	Lookups bool          // --lookups: one line per lookup instead of one per event
	Device  string        // --device: the device to read
	Count   int           // --count: stop after N queries, or N lookups with --lookups (0: no limit)
	Timeout time.Duration // --timeout: stop after this long (0: no limit)
	Stats   bool          // --stats: print the module's counters and exit
}

// AddFlags registers Watch's flags on fs.
func (o *Watch) AddFlags(fs *flag.FlagSet) {
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per line")
	fs.BoolVar(&o.Lookups, "lookups", false, "print one line per lookup, when its answer comes or none did, instead of one per event")
	fs.StringVar(&o.Device, "device", watch.DefaultDevice, "the dnsmon device to read")
	fs.IntVar(&o.Count, "count", 0, "stop after `N` queries, or N lookups with --lookups (0: no limit)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "stop after `D`, e.g. 30s (0: no limit)")
	fs.BoolVar(&o.Stats, "stats", false, "print the module's counters as JSON and exit")
}

// Validate checks the values and their combination; args are the
// positional arguments, of which there must be none.
func (o *Watch) Validate(args []string) error {
	var errs []error
	if len(args) > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q: dnsmon-watch takes only flags", args[0]))
	}
	if o.Device == "" {
		errs = append(errs, errors.New("--device must name a device"))
	}
	if o.Count < 0 {
		errs = append(errs, fmt.Errorf("--count %d: must be 0 (no limit) or more", o.Count))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("--timeout %v: must be 0 (no limit) or more", o.Timeout))
	}
	if o.Stats && (o.Count != 0 || o.Timeout != 0 || o.Lookups) {
		errs = append(errs, errors.New("--stats prints the counters once: it takes no --count, --timeout or --lookups"))
	}
	return errors.Join(errs...)
}

// Options returns the watch options the flags ask for.
func (o *Watch) Options() []watch.Option {
	return []watch.Option{
		watch.WithDevice(o.Device),
		watch.WithJSON(o.JSON),
		watch.WithLookups(o.Lookups),
		watch.WithCount(o.Count),
		watch.WithTimeout(o.Timeout),
	}
}
