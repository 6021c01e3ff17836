// Package event decodes what /dev/dnsmon returns: fixed-size, versioned
// struct dnsmon_event records (queries, their answers, and queries that
// went unanswered) and the struct dnsmon_stats counters, both defined once
// in kmod/src/dnsmon_event.h. It also names DNS query types, classes and
// response codes, and marshals events as the JSON lines dnsmon-watch
// prints.
//
// The layout constants here are checked against the C header field by field
// by a test that compiles a small C program for amd64 and for arm64 (with
// the cross compiler, run under qemu's user-mode emulator): the ABI is one
// on both.
package event
