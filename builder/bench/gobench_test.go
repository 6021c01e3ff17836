package bench

import (
	"strings"
	"testing"
)

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/dnsmon/dnsmon/kmod/event
cpu: Intel(R) Xeon(R) Processor
BenchmarkDecode-2   	 1000000	      1000 ns/op	  400 B/op	       3 allocs/op
BenchmarkDecode-2   	 1000000	      3000 ns/op	  400 B/op	       3 allocs/op
BenchmarkDecode-2   	 1000000	      1200 ns/op	  400 B/op	       3 allocs/op
PASS
pkg: github.com/dnsmon/dnsmon/fetcher
BenchmarkSelect/pick/3000-2         	   31497	      7370 ns/op
BenchmarkSelect/nearest/3000-2      	      40	   8510680 ns/op
ok  	github.com/dnsmon/dnsmon/fetcher	0.600s
`
	rows, err := ParseGoBench(strings.NewReader(out), "go test -bench .")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ metric, value string }{
		{"event Decode (median of 3)", "1.20 µs/op, 400 B/op, 3 allocs/op"},
		{"fetcher Select/pick/3000 (median of 1)", "7.37 µs/op"},
		{"fetcher Select/nearest/3000 (median of 1)", "8.51 ms/op"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(rows), rows, len(want))
	}
	for i, w := range want {
		if rows[i].Metric != w.metric || rows[i].Value != w.value || rows[i].Section != "Go benchmarks" || rows[i].Command != "go test -bench ." {
			t.Errorf("row %d = %+v, want %q = %q", i, rows[i], w.metric, w.value)
		}
	}
}
