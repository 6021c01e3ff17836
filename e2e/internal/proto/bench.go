package proto

import (
	"encoding/json"
	"strings"
)

// BenchMode is the kernel command line parameter that makes the guest init
// run the measurements of `make bench` (hook cost, lookups, answer latency,
// event delivery) instead
// of the test scenarios. Parameters of the form dnsmon.bench.NAME=VALUE
// tune it (see BenchParams).
const BenchMode = "dnsmon.mode=bench"

// BenchPrefix starts every console line carrying one measurement:
// "DNSMON-BENCH {json}".
const BenchPrefix = "DNSMON-BENCH "

// Kinds of measurements.
const (
	BenchHook     = "hook"     // a timed run of UDP sends
	BenchDelivery = "delivery" // one paced query rate under dnsmon-watch --json
	BenchLookup   = "lookup"   // a timed run of lookups, query and response
	BenchLatency  = "latency"  // the answer latency the module reports
)

// BenchSample is one measurement made inside the guest. Times are read
// from the guest's clock.
type BenchSample struct {
	Kind string `json:"kind"`
	// Hook: Round (1-based), Loaded (module loaded), Queued (loaded with
	// a ring that held every event of the run), Port (destination), Sent
	// datagrams and the guest nanoseconds they took.
	Round  int   `json:"round,omitempty"`
	Loaded bool  `json:"loaded,omitempty"`
	Queued bool  `json:"queued,omitempty"`
	Port   int   `json:"port,omitempty"`
	Sent   int64 `json:"sent"`
	Ns     int64 `json:"ns"`
	// Delivery: the target Rate (queries per second, 0 unpaced), what
	// dnsmon-watch printed (Seen events, WatchDropped from its drop
	// lines) and the module's counters afterwards.
	Rate         int   `json:"rate,omitempty"`
	Seen         int64 `json:"seen,omitempty"`
	WatchDropped int64 `json:"watch_dropped,omitempty"`
	Events       int64 `json:"events,omitempty"`
	Dropped      int64 `json:"dropped,omitempty"`
	// Lookup: Round, Loaded, Sent lookups and the guest nanoseconds their
	// round trips took. Latency: Sent lookups to a responder delaying its
	// answers DelayNs, Seen answers shown, Ns the median latency they
	// carried and ClientNs the median round trip the client saw.
	ClientNs int64 `json:"client_ns,omitempty"`
	DelayNs  int64 `json:"delay_ns,omitempty"`
}

// Format renders the sample as one console line (without newline).
func (s BenchSample) Format() string {
	b, _ := json.Marshal(s) // strings, ints and bools always marshal
	return BenchPrefix + string(b)
}

// ParseBenchLine extracts a sample from a console line; the prefix may
// follow other output on the same line.
func ParseBenchLine(line string) (BenchSample, bool) {
	i := strings.Index(line, BenchPrefix)
	if i < 0 {
		return BenchSample{}, false
	}
	var s BenchSample
	if err := json.Unmarshal([]byte(strings.TrimSpace(line[i+len(BenchPrefix):])), &s); err != nil || s.Kind == "" {
		return BenchSample{}, false
	}
	return s, true
}
