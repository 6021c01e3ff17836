package builder

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
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

// maxPlanned bounds the targets whose start order is improved beyond
// longest first: each pass of the swap search simulates the run once per
// pair of targets. Beyond it, a run has so many targets per job that
// longest first leaves little idle at the end anyway.
const maxPlanned = 64

// startOrder returns the indexes of names in the order their builds
// should start on jobs workers that each take the next target when they
// finish one. Names with no history start first (they may be long), then
// the others longest first; ties keep their order. When every name has a
// history, that order is improved by swapping pairs of targets while
// that shortens the simulated run: longest first alone can
// leave one worker building a last target while the others idle, e.g.
// 6.6 6.3 6.3 6.2 4.9 4.9 3.4 s on two workers end at 20.9 s longest
// first, with the 3.4 s build alone for its whole time, and at 19.4 s in
// the planned order (of 19.3 s, half the sum, at best).
func (d durations) startOrder(names []string, jobs int) []int {
	est := make([]time.Duration, len(names))
	known := make([]bool, len(names))
	allKnown := true
	for i, n := range names {
		est[i], known[i] = d[n]
		allKnown = allKnown && known[i]
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if known[order[a]] != known[order[b]] {
			return !known[order[a]]
		}
		return est[order[a]] > est[order[b]]
	})
	unknown := 0
	for unknown < len(order) && !known[order[unknown]] {
		unknown++
	}
	interleaveGroups(order[:unknown], names)
	if !allKnown || jobs < 2 || len(order) <= jobs || len(order) > maxPlanned {
		return order
	}
	best := makespan(order, est, jobs)
	for improved := true; improved; {
		improved = false
		for i := range order {
			for j := i + 1; j < len(order); j++ {
				if est[order[i]] == est[order[j]] {
					continue
				}
				order[i], order[j] = order[j], order[i]
				if m := makespan(order, est, jobs); m < best {
					best, improved = m, true
					continue
				}
				order[i], order[j] = order[j], order[i]
			}
		}
	}
	return order
}

// makespan simulates list scheduling: jobs workers, each taking the next
// target of order when it is free; it returns when the last one ends.
func makespan(order []int, est []time.Duration, jobs int) time.Duration {
	free := make([]time.Duration, jobs) // when each worker is next free
	var end time.Duration
	for _, i := range order {
		w := 0
		for k := range free {
			if free[k] < free[w] {
				w = k
			}
		}
		free[w] += est[i]
		end = max(end, free[w])
	}
	return end
}

// interleaveGroups reorders order, indexes of names "GROUP/KERNEL", to
// take one target of each group in turn, groups in order of first
// appearance.
func interleaveGroups(order []int, names []string) {
	var groups []string
	byGroup := map[string][]int{}
	for _, i := range order {
		g, _, _ := strings.Cut(names[i], "/")
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], i)
	}
	out := order[:0]
	for len(out) < len(order) {
		for _, g := range groups {
			if q := byGroup[g]; len(q) > 0 {
				out = append(out, q[0])
				byGroup[g] = q[1:]
			}
		}
	}
}
