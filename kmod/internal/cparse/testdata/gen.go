//go:build ignore

// gen writes the seed corpus of FuzzParse into fuzz/FuzzParse, one file
// per case, in the "go test fuzz v1" format.  Run from this directory:
//
//	go run gen.go
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// header is a DNS header: id 0xbeef, the given flags, QDCOUNT and ARCOUNT.
func header(flags, qdcount, arcount uint16) []byte {
	return []byte{0xbe, 0xef, byte(flags >> 8), byte(flags), byte(qdcount >> 8), byte(qdcount), 0, 0, 0, 0, byte(arcount >> 8), byte(arcount)}
}

func wire(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

const rd = 0x0100

var (
	typeA    = []byte{0, 1, 0, 1}
	typeAAAA = []byte{0, 28, 0, 1}
	// An EDNS0 OPT record: root name, type 41, UDP size 1232, no options.
	opt = []byte{0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0}
	l63 = strings.Repeat("a", 63)
)

var seeds = map[string][]byte{
	"normal_a":            cat(header(rd, 1, 0), wire("example", "com"), typeA),
	"normal_aaaa_edns":    cat(header(rd, 1, 1), wire("www", "example", "org"), typeAAAA, opt),
	"normal_mixed_case":   cat(header(rd, 1, 0), wire("WwW", "ExAmPlE", "CoM"), typeA),
	"root":                cat(header(rd, 1, 0), []byte{0}, []byte{0, 2, 0, 1}),
	"escapes_specials":    cat(header(rd, 1, 0), wire(`a"b$c(d)e;f@g\h`, "com"), typeA),
	"escapes_space":       cat(header(rd, 1, 0), wire("has space", "com"), typeA),
	"control_chars":       cat(header(rd, 1, 0), wire("\x00\x01\x1b[31m\x7f", "\xff\xfe"), typeA),
	"newline_in_label":    cat(header(rd, 1, 0), wire("evil\nDNS Query for x", "com"), typeA),
	"dot_in_label":        cat(header(rd, 1, 0), wire("a.b", "com"), typeA),
	"label_past_end":      cat(header(rd, 1, 0), []byte{20, 'a', 'b', 'c'}),
	"no_terminator":       cat(header(rd, 1, 0), []byte{3, 'c', 'o', 'm'}),
	"no_qtype":            cat(header(rd, 1, 0), wire("com")),
	"half_qclass":         cat(header(rd, 1, 0), wire("com"), []byte{0, 1, 0}),
	"pointer_self_loop":   cat(header(rd, 1, 0), []byte{0xc0, 12}, typeA),
	"pointer_two_loop":    cat(header(rd, 1, 0), []byte{1, 'a', 0xc0, 16, 1, 'b', 0xc0, 12}, typeA),
	"pointer_forward":     cat(header(rd, 1, 0), []byte{1, 'x', 0xc0, 20}, typeA, wire("com")),
	"pointer_past_end":    cat(header(rd, 1, 0), []byte{0xff, 0xff}, typeA),
	"pointer_into_header": cat(header(rd, 1, 0), []byte{0xc0, 0x00}, typeA),
	"reserved_label_type": cat(header(rd, 1, 0), []byte{0x40, 0}, typeA),
	"name_255_octets":     cat(header(rd, 1, 0), wire(l63, l63, l63, l63[:61]), typeA),
	"name_256_octets":     cat(header(rd, 1, 0), wire(l63, l63, l63, l63[:62]), typeA),
	"name_many_labels":    cat(header(rd, 1, 0), wire(strings.Split(strings.Repeat("a.", 127), ".")[:127]...), typeA),
	"response":            cat(header(0x8180, 1, 0), wire("example", "com"), typeA),
	"opcode_notify":       cat(header(4<<11, 1, 0), wire("example", "com"), []byte{0, 6, 0, 1}),
	"qdcount_0":           cat(header(rd, 0, 0), wire("example", "com"), typeA),
	"qdcount_2":           cat(header(rd, 2, 0), wire("example", "com"), typeA, wire("example", "net"), typeA),
	"short_header":        {0xbe, 0xef, 0x01, 0x00, 0x00, 0x01},
	"header_only":         header(rd, 1, 0),
	"empty":               {},
}

func main() {
	dir := filepath.Join("fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, msg := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", msg)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
