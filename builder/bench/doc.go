// Package bench collects the rows of `make bench`: each measurement is a
// Row with the command that produced it, appended as one JSON line to
// $BENCH_OUT/rows.jsonl by the benchmark that made it, and rendered as one
// Markdown table at the end. Its own benchmarks measure the build farm and
// the distribution path (registry, bundle, sizes).
package bench
