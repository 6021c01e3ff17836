package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for name, c := range map[string]struct {
		in   []float64
		want float64
	}{
		"odd":    {[]float64{3, 1, 2}, 2},
		"even":   {[]float64{4, 1, 3, 2}, 2.5},
		"single": {[]float64{7}, 7},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Median(c.in)
			if err != nil || got != c.want {
				t.Errorf("Median(%v) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
	if _, err := Median(nil); err != ErrNoSamples {
		t.Errorf("Median(nil) error = %v, want ErrNoSamples", err)
	}
	if d, _ := MedianDuration([]time.Duration{time.Second, 3 * time.Second, 2 * time.Second}); d != 2*time.Second {
		t.Errorf("MedianDuration = %v, want 2s", d)
	}
}

func TestAppendReadRender(t *testing.T) {
	file := filepath.Join(t.TempDir(), "out", "rows.jsonl")
	rows := []Row{
		{Section: "Go benchmarks", Metric: "decode", Value: "100 ns/op", Command: "go test -bench Decode"},
		Row{Section: "Farm", Metric: "warm / floor", Value: "1.1", Command: "go test -bench Farm | x"}.WithGoal("≤ 1.3", true),
		Row{Section: "Distribution", Metric: "artifact", Value: "40 KiB", Command: "c"}.WithGoal("≤ 32 KiB", false),
	}
	if err := Append(file, rows[:1]...); err != nil {
		t.Fatal(err)
	}
	if err := Append(file, rows[1:]...); err != nil {
		t.Fatal(err)
	}
	if err := Append("", rows...); err != nil {
		t.Fatalf("Append to no file: %v", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadRows(bytes.NewReader(data))
	if err != nil || len(got) != 3 {
		t.Fatalf("ReadRows = %d rows, %v; want 3", len(got), err)
	}
	var b strings.Builder
	if err := Render(&b, got); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| section | measurement | result | goal | command |",
		"| --- | --- | --- | --- | --- |",
		"| Farm | warm / floor | 1.1 | ≤ 1.3 ✓ | `go test -bench Farm \\| x` |",
		"| Distribution | artifact | 40 KiB | ≤ 32 KiB ✗ | `c` |",
		"| Go benchmarks | decode | 100 ns/op |  | `go test -bench Decode` |",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Render:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}
