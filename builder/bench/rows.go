package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Row is one line of the results table.
type Row struct {
	// Section groups rows: "Farm", "Farm arm64", "Hook cost", "Event delivery",
	// "Distribution", "Go benchmarks".
	Section string `json:"section"`
	// Metric says what was measured, Value the result with its unit.
	Metric string `json:"metric"`
	Value  string `json:"value"`
	// Goal is the target ("≤ 1.3"), empty when there is none; Met tells
	// whether Value reaches it.
	Goal string `json:"goal,omitempty"`
	Met  *bool  `json:"met,omitempty"`
	// Command reproduces the row.
	Command string `json:"command"`
}

// Goal sets the row's goal and whether it was met.
func (r Row) WithGoal(goal string, met bool) Row {
	r.Goal, r.Met = goal, &met
	return r
}

// RowsFile is the file rows are appended to: $BENCH_OUT/rows.jsonl, or
// "" when BENCH_OUT is unset (rows are then only logged).
func RowsFile() string {
	dir := os.Getenv("BENCH_OUT")
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "rows.jsonl")
}

// Append appends rows to file, one JSON object per line. An empty file
// name appends nothing.
func Append(file string, rows ...Row) (err error) {
	if file == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %q: %w", file, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening %q: %w", file, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing %q: %w", file, cerr)
		}
	}()
	enc := json.NewEncoder(f)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("writing %q: %w", file, err)
		}
	}
	return nil
}

// ReadRows reads rows written by Append.
func ReadRows(r io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var row Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("row %d: %w", n, err)
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// sectionOrder is the order of sections in the table; others follow.
var sectionOrder = []string{"Farm", "Farm arm64", "Hook cost", "Event delivery", "Distribution", "Go benchmarks"}

// Render writes rows as one Markdown table, sections in a fixed order and
// rows within a section in the order they were appended.
func Render(w io.Writer, rows []Row) error {
	rank := func(s string) int {
		if i := slices.Index(sectionOrder, s); i >= 0 {
			return i
		}
		return len(sectionOrder)
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b Row) int { return rank(a.Section) - rank(b.Section) })
	var b strings.Builder
	b.WriteString("| section | measurement | result | goal | command |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		goal := r.Goal
		if r.Met != nil {
			if *r.Met {
				goal += " ✓"
			} else {
				goal += " ✗"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", cell(r.Section), cell(r.Metric), cell(r.Value), cell(goal), strings.ReplaceAll(r.Command, "|", `\|`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ErrNoSamples is returned by Median for an empty slice.
var ErrNoSamples = errors.New("no samples")

// Median returns the median of xs (the mean of the middle two for an even
// count).
func Median(xs []float64) (float64, error) {
	if len(xs) == 0 {
		return 0, ErrNoSamples
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], nil
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, nil
}

// MedianDuration is Median over durations.
func MedianDuration(ds []time.Duration) (time.Duration, error) {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	m, err := Median(xs)
	return time.Duration(m), err
}

// Seconds formats a duration as seconds with millisecond precision.
func Seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// Bytes formats a size in bytes with KiB or MiB.
func Bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB (%d B)", float64(n)/(1<<20), n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB (%d B)", float64(n)/(1<<10), n)
	}
	return fmt.Sprintf("%d B", n)
}
