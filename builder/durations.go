package builder

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
)

// durations remembers how long each target last took to build, so that a
// farm run can start the longest first: with N jobs, the run ends when its
// last target does, and a long target started last leaves the other jobs
// idle while it finishes.
type durations map[string]time.Duration

// loadDurations reads a durations file; a missing or damaged file is an
// empty history, since it only orders the work.
func loadDurations(path string) durations {
	d := durations{}
	b, err := os.ReadFile(path)
	if err != nil {
		return d
	}
	var ms map[string]int64 // target name → milliseconds
	if json.Unmarshal(b, &ms) != nil {
		return d
	}
	for k, v := range ms {
		d[k] = time.Duration(v) * time.Millisecond
	}
	return d
}

// save writes the history atomically.
func (d durations) save(path string) error {
	ms := make(map[string]int64, len(d))
	for k, v := range d {
		ms[k] = v.Milliseconds()
	}
	b, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("saving build durations: %w", err)
	}
	return nil
}

// startOrder returns the indexes of names, longest known duration first;
// names with no history come before all others (they may be long), and
// ties keep their order.
func (d durations) startOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		da, oka := d[names[order[a]]]
		db, okb := d[names[order[b]]]
		if oka != okb {
			return !oka
		}
		return da > db
	})
	return order
}
