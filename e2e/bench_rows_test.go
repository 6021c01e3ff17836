package e2e

import (
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
)

func TestGuestRowsHookRatios(t *testing.T) {
	hook := func(round int, loaded, queued bool, port int, ns int64) proto.BenchSample {
		return proto.BenchSample{Kind: proto.BenchHook, Round: round, Loaded: loaded, Queued: queued, Port: port, Sent: 1000, Ns: ns}
	}
	lookup := func(round int, loaded, queued bool, ns int64) proto.BenchSample {
		return proto.BenchSample{Kind: proto.BenchLookup, Round: round, Loaded: loaded, Queued: queued, Port: 53, Sent: 1000, Ns: ns}
	}
	var samples []proto.BenchSample
	for r := 1; r <= 3; r++ {
		samples = append(samples,
			hook(r, false, false, 9, 10_000_000), hook(r, false, false, 53, 10_000_000), // 100000/s
			hook(r, true, false, 9, 10_100_000), hook(r, true, false, 53, 10_500_000),
			hook(r, true, true, 53, 12_500_000), // 80000/s
			lookup(r, false, false, 100_000_000), lookup(r, true, false, 110_000_000), lookup(r, true, true, 125_000_000),
		)
	}
	samples = append(samples,
		proto.BenchSample{Kind: proto.BenchLatency, Sent: 20, Seen: 20, Ns: 50_900_000, ClientNs: 51_500_000, DelayNs: 50_000_000},
		proto.BenchSample{Kind: proto.BenchLatency, Sent: 20, Seen: 19, Ns: 56_000_000, ClientNs: 57_000_000, DelayNs: 50_000_000})
	rows, err := guestRows(samples, "6.1.0-50-amd64")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		metric, value string
		met           string // "yes", "no", or "" for a row without a goal
	}{
		{"UDP to port 9 (not DNS): loaded / unloaded", "0.990", "yes"},
		{"each query is only counted as dropped: loaded / unloaded", "0.952", "yes"},
		{"as when a reader keeps up: loaded / unloaded", "0.800", ""},
		{"each query and answer is only counted as dropped: loaded / unloaded", "0.909", "yes"},
		{"built into an event and queued: loaded / unloaded", "0.800", ""},
		{"latency_us of the answers of a responder delaying each by 50ms: median of 20 answers (the client's median round trip beside it; 6.1.0-50-amd64, qemu TCG -icount shift=0, guest clock)", "50.9 ms (client 51.5 ms)", "yes"},
	}
	for _, tt := range tests {
		found := false
		for _, r := range rows {
			if !strings.HasSuffix(r.Metric, tt.metric) {
				continue
			}
			found = true
			met := ""
			if r.Met != nil {
				met = map[bool]string{true: "yes", false: "no"}[*r.Met]
			}
			if r.Value != tt.value || met != tt.met {
				t.Errorf("%s = %s (met %q), want %s (met %q)", r.Metric, r.Value, met, tt.value, tt.met)
			}
		}
		if !found {
			t.Errorf("no row ending %q in %+v", tt.metric, rows)
		}
	}

	var late int
	for _, r := range rows {
		if r.Value == "56.0 ms (client 57.0 ms)" {
			late++
			if r.Met == nil || *r.Met {
				t.Errorf("latency 56 ms against a 50 ms delay: met %v, want false", r.Met)
			}
		}
	}
	if late != 1 {
		t.Errorf("%d rows for the 56 ms latency, want 1", late)
	}

	// A state with no samples is an error, not a ratio of nothing.
	if _, err := guestRows(samples[:2], "6.1.0-50-amd64"); err == nil {
		t.Error("guestRows without loaded samples: no error")
	}
}
