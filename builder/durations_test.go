package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/matrix"
)

func TestStartOrder(t *testing.T) {
	tests := map[string]struct {
		history durations
		names   []string
		want    []int
	}{
		"no history keeps the order": {nil, []string{"a", "b", "c"}, []int{0, 1, 2}},
		"longest first":              {durations{"a": 1, "b": 3, "c": 2}, []string{"a", "b", "c"}, []int{1, 2, 0}},
		"unknown before known":       {durations{"a": 5, "c": 9}, []string{"a", "b", "c"}, []int{1, 2, 0}},
		"unknown first, no plan":     {durations{"a": 7, "b": 6, "c": 6, "d": 6, "e": 5, "f": 5, "h": 3}, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, []int{6, 0, 1, 2, 3, 4, 5, 7}},
		"ties keep the order":        {durations{"a": 2, "b": 2, "c": 2}, []string{"a", "b", "c"}, []int{0, 1, 2}},
		"new groups take turns": {durations{"u/3": 9}, []string{"u/1", "u/2", "u/3", "v/1", "v/2", "w/1"},
			[]int{0, 3, 5, 1, 4, 2}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			for _, jobs := range []int{1, 2} {
				got := tt.history.startOrder(tt.names, jobs)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("startOrder on %d jobs = %v, want %v", jobs, got, tt.want)
				}
			}
		})
	}
}

// TestStartOrderPlans checks that on several jobs the order finishes no
// later than longest first, in the simulation the plan is made with.
func TestStartOrderPlans(t *testing.T) {
	ms := time.Millisecond
	tests := map[string]struct {
		est  []time.Duration
		jobs int
		want time.Duration // simulated end of the planned order
	}{
		// A Debian matrix's times on two jobs: longest first ends at
		// 20.9 s, the 3.4 s build alone at the end; the plan ends at
		// 19.4 s, 4.9 6.2 4.9 3.4 on one job and 6.6 6.3 6.3 on the
		// other (half the sum, 19.3 s, is the least possible).
		"debian matrix":           {[]time.Duration{3400 * ms, 4900 * ms, 4900 * ms, 6300 * ms, 6600 * ms, 6200 * ms, 6300 * ms}, 2, 19400 * ms},
		"three jobs":              {[]time.Duration{5, 5, 4, 4, 3, 3, 3, 3}, 3, 10},
		"longest first is best":   {[]time.Duration{8, 4, 4}, 2, 8},
		"fewer targets than jobs": {[]time.Duration{3, 9}, 4, 9},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			history := durations{}
			var names []string
			for i, d := range tt.est {
				n := fmt.Sprintf("t%d", i)
				names = append(names, n)
				history[n] = d
			}
			got := history.startOrder(names, tt.jobs)
			seen := map[int]bool{}
			for _, i := range got {
				seen[i] = true
			}
			if len(got) != len(names) || len(seen) != len(names) {
				t.Fatalf("startOrder = %v: not a permutation of %d targets", got, len(names))
			}
			longest := history.startOrder(names, 1) // no planning on one job
			if end, lpt := makespan(got, tt.est, tt.jobs), makespan(longest, tt.est, tt.jobs); end != tt.want || end > lpt {
				t.Errorf("startOrder = %v ends at %v (longest first %v ends at %v), want %v", got, end, longest, lpt, tt.want)
			}
		})
	}
}

func TestMakespan(t *testing.T) {
	est := []time.Duration{7, 6, 6, 6, 5, 5, 3}
	tests := []struct {
		order []int
		jobs  int
		want  time.Duration
	}{
		{[]int{0, 1, 2, 3, 4, 5, 6}, 1, 38},
		{[]int{0, 1, 2, 3, 4, 5, 6}, 2, 20}, // 7+6+5 | 6+6+5+3
		{[]int{6, 5, 4, 3, 2, 1, 0}, 2, 21}, // shortest first: 3+5+6+7 | 5+6+6
		{[]int{0, 1, 2, 3, 4, 5, 6}, 7, 7},
	}
	for _, tt := range tests {
		if got := makespan(tt.order, est, tt.jobs); got != tt.want {
			t.Errorf("makespan(%v, %d jobs) = %v, want %v", tt.order, tt.jobs, got, tt.want)
		}
	}
}

func TestDurationsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", DurationsFile)
	if d := loadDurations(path); len(d) != 0 {
		t.Errorf("missing file: %v, want empty", d)
	}
	want := durations{"debian-12/6.1.0-50-amd64": 4200 * time.Millisecond}
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	if got := loadDurations(path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("round trip: %v, want %v", got, want)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := loadDurations(path); len(d) != 0 {
		t.Errorf("damaged file: %v, want empty", d)
	}
}

// orderBuilder records the order builds start in.
type orderBuilder struct {
	fixedBuilder
	mu      sync.Mutex
	started []string
}

func (o *orderBuilder) Build(ctx context.Context, t matrix.Target) (Module, error) {
	o.mu.Lock()
	o.started = append(o.started, t.Kernel)
	o.mu.Unlock()
	return o.fixedBuilder.Build(ctx, t)
}

func TestRunStartsLongestFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), DurationsFile)
	if err := (durations{"debian-12/6.1.0-1-amd64": time.Second, "debian-12/6.1.0-2-amd64": 3 * time.Second}).save(path); err != nil {
		t.Fatal(err)
	}
	targets := []matrix.Target{debTarget("6.1.0-1-amd64"), debTarget("6.1.0-2-amd64"), debTarget("6.1.0-3-amd64")}
	ob := &orderBuilder{}
	results, err := Run(t.Context(), ob, targets, WithJobs(1), WithDurations(path))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ob.started, " "), "6.1.0-3-amd64 6.1.0-2-amd64 6.1.0-1-amd64"; got != want {
		t.Errorf("started %s, want %s (no history, then longest)", got, want)
	}
	for i, r := range results {
		if r.Target.Kernel != targets[i].Kernel {
			t.Errorf("result %d is %s, want %s: results keep the targets' order", i, r.Target.Kernel, targets[i].Kernel)
		}
	}
	got := loadDurations(path)
	if _, ok := got["debian-12/6.1.0-3-amd64"]; !ok || len(got) != 3 {
		t.Errorf("history after the run: %v, want all three targets", got)
	}
	// The fake builds take no time: a known target's estimate halves.
	if d := got["debian-12/6.1.0-2-amd64"]; d < 1500*time.Millisecond || d > 1600*time.Millisecond {
		t.Errorf("estimate of 6.1.0-2 after a quick build: %v, want the mean of 3s and the build's time", d)
	}
}
