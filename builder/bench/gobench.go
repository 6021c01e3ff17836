package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// benchLine matches a result line of `go test -bench`: name-GOMAXPROCS,
// iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// ParseGoBench turns the output of `go test -bench ... -count N` into one
// row per benchmark: the median ns/op over its runs, with B/op and
// allocs/op of the same runs' medians when -benchmem was given. command is
// the row's command.
func ParseGoBench(r io.Reader, command string) ([]Row, error) {
	type stats struct {
		pkg    string
		values map[string][]float64 // unit → samples
	}
	var order []string
	byName := map[string]*stats{}
	pkg := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := pkg + " " + m[1]
		st := byName[key]
		if st == nil {
			st = &stats{pkg: pkg, values: map[string][]float64{}}
			byName[key] = st
			order = append(order, key)
		}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", line, err)
			}
			st.values[f[i+1]] = append(st.values[f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var rows []Row
	for _, key := range order {
		st := byName[key]
		ns, err := Median(st.values["ns/op"])
		if err != nil {
			return nil, fmt.Errorf("%s: no ns/op", key)
		}
		val := fmt.Sprintf("%s/op", humanNs(ns))
		if bop, err := Median(st.values["B/op"]); err == nil {
			allocs, _ := Median(st.values["allocs/op"])
			val += fmt.Sprintf(", %.0f B/op, %.0f allocs/op", bop, allocs)
		}
		_, name, _ := strings.Cut(key, " ")
		short := st.pkg[strings.LastIndex(st.pkg, "/")+1:]
		rows = append(rows, Row{Section: "Go benchmarks",
			Metric:  fmt.Sprintf("%s %s (median of %d)", short, strings.TrimPrefix(name, "Benchmark"), len(st.values["ns/op"])),
			Value:   val,
			Command: command})
	}
	return rows, nil
}

func humanNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f ns", ns)
}
