package e2e

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/bench"
	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// benchCommand reproduces the rows of BenchmarkGuest.
const benchCommand = "go test -run '^$' -bench '^BenchmarkGuest$' -benchtime 1x -timeout 60m ./e2e"

// BenchmarkGuest measures, inside qemu guests whose clock counts executed
// instructions (-icount shift=0), what the module costs senders and how
// fast dnsmon-watch keeps up: one guest per kernel, amd64 and arm64. It
// runs once whatever b.N is (use -benchtime 1x) and appends its rows to
// $BENCH_OUT/rows.jsonl.
//
// DNSMON_BENCH_KERNELS picks the kernels as SUITE[:FLAVOUR],… (default
// bookworm,bookworm:arm64; DNSMON_BENCH_SUITE, the older knob, names one
// suite's default kernel); DNSMON_BENCH_ROUNDS, DNSMON_BENCH_COUNT and
// DNSMON_BENCH_QUERIES tune the guest (defaults 8 rounds of 60000
// datagrams, 20000 queries per rate).
func BenchmarkGuest(b *testing.B) {
	def := []guestKernel{{"bookworm", ""}, {"bookworm", "arm64"}}
	if s := os.Getenv("DNSMON_BENCH_SUITE"); s != "" {
		def = []guestKernel{{s, ""}}
	}
	c, root := guestSetup(b)
	for _, gk := range kernelsFromEnv("DNSMON_BENCH_KERNELS", def) {
		benchGuest(b, c, root, gk)
	}
}

// benchGuest boots one kernel's benchmark guest and appends its rows.
func benchGuest(b *testing.B, c *debian.Client, root string, gk guestKernel) {
	ctx := b.Context()
	gp, err := prepareGuest(ctx, c, root, gk, moduleSource(root, io.Discard))
	if err != nil {
		b.Fatalf("%s:%s: %v", gk.suite, gk.flavour, err)
	}
	k, vmlinuz, ko := gp.k, gp.vmlinuz, gp.ko
	files, err := BuildToolsFor(ctx, root, b.TempDir(), k.Arch(), GuestTools)
	if err != nil {
		b.Fatal(err)
	}
	files = append(files, InitramfsFile{Path: "/dnsmon.ko", Source: ko, Mode: 0o644})
	initrd := filepath.Join(b.TempDir(), "initramfs.cpio")
	if err := WriteInitramfs(initrd, files); err != nil {
		b.Fatal(err)
	}
	appendArgs := proto.BenchMode
	for _, p := range []struct{ env, param string }{
		{"DNSMON_BENCH_ROUNDS", "rounds"}, {"DNSMON_BENCH_COUNT", "count"}, {"DNSMON_BENCH_QUERIES", "queries"},
	} {
		if v := os.Getenv(p.env); v != "" {
			appendArgs += fmt.Sprintf(" dnsmon.bench.%s=%s", p.param, v)
		}
	}
	logPath, err := NewLogPath(filepath.Join(c.CacheRoot(), "guest-logs"), "bench-"+k.Release)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	r, err := Run(ctx, Boot{Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, Append: appendArgs, Arch: k.Arch(),
		Args: []string{"-icount", "shift=0"}, Timeout: 40 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("guest %s ran in %v (console log %s)", k.Release, time.Since(start).Round(time.Second), logPath)
	for _, v := range r.Verdicts {
		if v.Status != Pass {
			b.Errorf("guest %s: %s %s: %s", k.Release, v.Scenario, v.Status, v.Detail)
		}
	}
	samples, err := benchSamples(logPath)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := guestRows(samples, k.Release)
	if err != nil {
		b.Fatal(err)
	}
	for _, row := range rows {
		b.Logf("%s: %s = %s %s", row.Section, row.Metric, row.Value, row.Goal)
	}
	if err := bench.Append(bench.RowsFile(), rows...); err != nil {
		b.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// benchSamples reads the measurement lines of a console log.
func benchSamples(logPath string) ([]proto.BenchSample, error) {
	f, err := os.Open(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []proto.BenchSample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if s, ok := proto.ParseBenchLine(sc.Text()); ok {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// Module states of a hook or lookup sample.
const (
	unloaded = iota
	loaded
	queued
)

func stateOf(s proto.BenchSample) int {
	switch {
	case s.Queued:
		return queued
	case s.Loaded:
		return loaded
	}
	return unloaded
}

// guestRows turns the guest's samples into table rows: the median packet
// rates with and without the module and their ratio per port, and the
// delivery rates.
func guestRows(samples []proto.BenchSample, release string) ([]bench.Row, error) {
	pps := map[[2]int][]float64{} // {port, state} → rates
	rounds := 0
	var deliveries, latencies []proto.BenchSample
	lookups := map[int][]float64{} // state → lookups/s
	for _, s := range samples {
		switch s.Kind {
		case proto.BenchLookup:
			if s.Ns <= 0 {
				return nil, fmt.Errorf("lookup sample with no duration: %+v", s)
			}
			state := stateOf(s)
			lookups[state] = append(lookups[state], float64(s.Sent)/(float64(s.Ns)/1e9))
		case proto.BenchLatency:
			latencies = append(latencies, s)
		case proto.BenchHook:
			if s.Ns <= 0 {
				return nil, fmt.Errorf("hook sample with no duration: %+v", s)
			}
			k := [2]int{s.Port, stateOf(s)}
			pps[k] = append(pps[k], float64(s.Sent)/(float64(s.Ns)/1e9))
			rounds = max(rounds, s.Round)
		case proto.BenchDelivery:
			deliveries = append(deliveries, s)
		}
	}
	var rows []bench.Row
	where := fmt.Sprintf("%s, qemu TCG -icount shift=0, guest clock", release)
	for _, p := range []struct {
		port  int
		state int
		name  string
		goal  float64
	}{ // goal 0: no goal
		// Each packet of the loopback bench crosses both hooks, LOCAL_OUT
		// and LOCAL_IN: 0.97 is the goal for the two together.
		{9, loaded, "UDP to port 9 (not DNS)", 0.97},
		{53, loaded, "UDP to port 53 (DNS query), module defaults and no reader: after 4096 queries the ring is full and each query is only counted as dropped", 0.90},
		// The goal is for the module as loaded; this row shows
		// what a reader that keeps up costs the sender on top.
		{53, queued, "UDP to port 53 (DNS query), ring_size=65536: every query built into an event and queued, as when a reader keeps up", 0},
	} {
		off, err := bench.Median(pps[[2]int{p.port, unloaded}])
		if err != nil {
			return nil, fmt.Errorf("no unloaded samples for port %d", p.port)
		}
		on, err := bench.Median(pps[[2]int{p.port, p.state}])
		if err != nil {
			return nil, fmt.Errorf("no loaded samples for port %d", p.port)
		}
		ratio := on / off
		r := bench.Row{Section: "Hook cost", Metric: fmt.Sprintf("%s: loaded / unloaded", p.name),
			Value: fmt.Sprintf("%.3f", ratio), Command: benchCommand}
		if p.goal > 0 {
			r = r.WithGoal(fmt.Sprintf("≥ %.2f", p.goal), ratio >= p.goal)
		}
		rows = append(rows,
			bench.Row{Section: "Hook cost", Metric: fmt.Sprintf("%s: packets/s unloaded → loaded (median of %d rounds alternating unloaded, defaults, ring_size=65536; %s)", p.name, rounds, where),
				Value: fmt.Sprintf("%.0f → %.0f", off, on), Command: benchCommand},
			r)
	}
	// As for the hook rows, the goal is for the module as loaded; the
	// queued row shows what pairing and building every answer costs on top.
	for _, p := range []struct {
		state int
		name  string
		goal  bool
	}{
		{loaded, "DNS lookups (query and response, both hooks), module defaults and no reader: after 4096 events the ring is full and each query and answer is only counted as dropped", true},
		{queued, "DNS lookups (query and response, both hooks), ring_size=65536: every response paired with its query, every query and answer built into an event and queued", false},
	} {
		off, err1 := bench.Median(lookups[unloaded])
		on, err2 := bench.Median(lookups[p.state])
		if err1 != nil || err2 != nil {
			continue
		}
		ratio := on / off
		r := bench.Row{Section: "Hook cost", Metric: fmt.Sprintf("%s: loaded / unloaded", p.name),
			Value: fmt.Sprintf("%.3f", ratio), Command: benchCommand}
		if p.goal {
			r = r.WithGoal("≥ 0.88", ratio >= 0.88)
		}
		rows = append(rows,
			bench.Row{Section: "Hook cost", Metric: fmt.Sprintf("%s: lookups/s unloaded → loaded (median of %d rounds; %s)", p.name, len(lookups[p.state]), where),
				Value: fmt.Sprintf("%.0f → %.0f", off, on), Command: benchCommand},
			r)
	}
	for _, l := range latencies {
		lat, delay := time.Duration(l.Ns), time.Duration(l.DelayNs)
		within := delay > 0 && math.Abs(float64(lat-delay)) <= 0.1*float64(delay)
		rows = append(rows, bench.Row{Section: "Answer latency",
			Metric: fmt.Sprintf("latency_us of the answers of a responder delaying each by %v: median of %d answers (the client's median round trip beside it; %s)", delay, l.Seen, where),
			Value:  fmt.Sprintf("%.1f ms (client %.1f ms)", float64(lat)/1e6, float64(l.ClientNs)/1e6), Command: benchCommand}.
			WithGoal(fmt.Sprintf("%v ± 10%%", delay), within))
	}
	if len(deliveries) == 0 {
		return rows, nil
	}
	best, above := -1, -1
	for i, d := range deliveries {
		if d.Dropped == 0 && (best < 0 || achieved(d) > achieved(deliveries[best])) {
			best = i
		}
	}
	for i, d := range deliveries {
		if d.Dropped > 0 && (above < 0 || achieved(d) < achieved(deliveries[above])) && (best < 0 || achieved(d) > achieved(deliveries[best])) {
			above = i
		}
	}
	var steps []string
	exact := true
	for _, d := range deliveries {
		target := "unpaced"
		if d.Rate > 0 {
			target = fmt.Sprint(d.Rate)
		}
		steps = append(steps, fmt.Sprintf("%s→%.0f/s: seen %d + dropped %d = sent %d", target, achieved(d), d.Seen, d.Dropped, d.Sent))
		exact = exact && d.Seen+d.Dropped == d.Sent && d.WatchDropped == d.Dropped
	}
	dcmd := benchCommand
	if best >= 0 {
		rows = append(rows, bench.Row{Section: "Event delivery",
			Metric: fmt.Sprintf("highest query rate with every event seen by `dnsmon-watch --json` (%d queries per rate, ring 4096, log=0; %s)", deliveries[0].Sent, where),
			Value:  fmt.Sprintf("%.0f queries/s", achieved(deliveries[best])), Command: dcmd})
	} else {
		rows = append(rows, bench.Row{Section: "Event delivery", Metric: "highest query rate with every event seen", Value: "none: every rate dropped", Command: dcmd})
	}
	if above >= 0 {
		d := deliveries[above]
		rows = append(rows, bench.Row{Section: "Event delivery",
			Metric: "next rate up: dropped of sent (dnsmon-watch's drop lines = module counter)",
			Value:  fmt.Sprintf("%.0f queries/s: %d of %d dropped, %d seen", achieved(d), d.Dropped, d.Sent, d.Seen), Command: dcmd})
	} else {
		rows = append(rows, bench.Row{Section: "Event delivery", Metric: "next rate up", Value: "no rate dropped events (even unpaced)", Command: dcmd})
	}
	rows = append(rows, bench.Row{Section: "Event delivery", Metric: "sent = seen + dropped at every rate",
		Value: strings.Join(steps, "; "), Command: dcmd}.WithGoal("exact", exact))
	return rows, nil
}

// achieved is the rate the guest actually sent at.
func achieved(d proto.BenchSample) float64 {
	if d.Ns <= 0 {
		return 0
	}
	return float64(d.Sent) / (float64(d.Ns) / 1e9)
}
