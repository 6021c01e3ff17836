package main

import (
	"encoding/binary"
	"strings"
)

// qtypes names the query types the scenarios use.
var qtypes = map[string]uint16{"A": 1, "NS": 2, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33, "HTTPS": 65}

// header builds a 12-byte DNS header.
func header(id uint16, flags uint16, qd, an uint16) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h[0:], id)
	binary.BigEndian.PutUint16(h[2:], flags)
	binary.BigEndian.PutUint16(h[4:], qd)
	binary.BigEndian.PutUint16(h[6:], an)
	return h
}

// encodeName encodes dot-separated labels as wire labels; "." or "" is the
// root. Labels may hold any byte except '.'.
func encodeName(name string) []byte {
	var b []byte
	name = strings.TrimSuffix(name, ".")
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// encodeLabels encodes raw labels (which may contain dots).
func encodeLabels(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// query builds a standard query (RD set) for name and qtype, class IN.
func query(id uint16, name string, qtype uint16) []byte {
	return question(header(id, 0x0100, 1, 0), encodeName(name), qtype)
}

func question(hdr, name []byte, qtype uint16) []byte {
	b := append(append([]byte{}, hdr...), name...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, qtype), 1)
}

// answer turns a query into an empty NOERROR response.
func answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	r := append([]byte{}, q...)
	r[2] |= 0x80  // QR
	r[3] &^= 0x0f // RCODE 0
	return r
}
