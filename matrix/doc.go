// Package matrix owns kernels.yaml: its schema, its validation with
// file:line errors, the per-distribution rules, the expansion of groups into
// build targets, deterministic sharding and the shard plan for CI.
//
// Everything here is a pure function of its inputs; the only input that is
// not the file itself is a Resolver, which turns a group's `track` entry into
// the newest kernel releases of a suite at run time. Each distribution's
// rules also say where it publishes kernel headers (Discoverer), for
// matrix/discover.
package matrix
