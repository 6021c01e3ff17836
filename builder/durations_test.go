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
		"ties keep the order":        {durations{"a": 2, "b": 2, "c": 2}, []string{"a", "b", "c"}, []int{0, 1, 2}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := tt.history.startOrder(tt.names)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("startOrder = %v, want %v", got, tt.want)
			}
		})
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
}
