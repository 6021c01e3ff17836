// Command benchtable is the last step of `make bench`: it adds the rows of
// the Go benchmarks' output to the rows the other benchmarks appended, and
// writes them as one Markdown table to -o and stdout.
//
//	benchtable -rows out/bench/rows.jsonl -gobench out/bench/gobench.txt -gocmd CMD -o out/bench.md
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dnsmon/dnsmon/builder/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	rowsFile := fs.String("rows", "", "rows appended by the benchmarks (JSON lines)")
	gobench := fs.String("gobench", "", "output of go test -bench")
	gocmd := fs.String("gocmd", "", "the command that made -gobench")
	out := fs.String("o", "", "Markdown file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rows []bench.Row
	if *rowsFile != "" {
		f, err := os.Open(*rowsFile)
		if err != nil {
			return err
		}
		rows, err = bench.ReadRows(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", *rowsFile, err)
		}
	}
	if *gobench != "" {
		f, err := os.Open(*gobench)
		if err != nil {
			return err
		}
		gr, err := bench.ParseGoBench(f, *gocmd)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", *gobench, err)
		}
		rows = append(rows, gr...)
	}
	var b bytes.Buffer
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "dnsmon bench, %s on %s (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, cpuModel())
	if err := bench.Render(&b, rows); err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	_, err := stdout.Write(b.Bytes())
	return err
}

// cpuModel names the host CPU and its count from /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	model, n := "", 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if k, v, ok := bytes.Cut(l, []byte(":")); ok {
			switch string(bytes.TrimSpace(k)) {
			case "model name":
				model = string(bytes.TrimSpace(v))
			case "processor":
				n++
			}
		}
	}
	return fmt.Sprintf("%d × %s", n, model)
}
