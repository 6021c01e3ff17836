package proto

import "testing"

func TestParseBenchLine(t *testing.T) {
	hook := BenchSample{Kind: BenchHook, Round: 2, Loaded: true, Port: 53, Sent: 100000, Ns: 931000000}
	tests := []struct {
		name string
		line string
		want BenchSample
		ok   bool
	}{
		{"round trip", hook.Format(), hook, true},
		{"after kernel output", "[ 3.1] x " + hook.Format() + "\r", hook, true},
		{"delivery", `DNSMON-BENCH {"kind":"delivery","rate":1000,"sent":5,"ns":1,"seen":5}`, BenchSample{Kind: BenchDelivery, Rate: 1000, Sent: 5, Ns: 1, Seen: 5}, true},
		{"no kind", `DNSMON-BENCH {"sent":1}`, BenchSample{}, false},
		{"bad json", `DNSMON-BENCH {`, BenchSample{}, false},
		{"other line", "DNSMON-VERDICT {}", BenchSample{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseBenchLine(tt.line)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseBenchLine(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}
