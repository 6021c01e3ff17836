package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"time"
)

// answersZone is the zone whose names the responder answers as the answer
// scenarios script them; every other name gets an empty NOERROR.
const answersZone = ".answers.test"

// The scripted names, by first label.
const (
	nameChain       = "chain"       // NOERROR: CNAME, CNAME, A, AAAA
	nameNXDomain    = "nxdomain"    // NXDOMAIN, authoritative
	nameServFail    = "servfail"    // SERVFAIL
	nameRefused     = "refused"     // REFUSED
	nameSilent      = "silent"      // no response
	nameWrongID     = "wrongid"     // a response whose id is not the query's
	nameWrongServer = "wrongserver" // a response from 127.0.0.2, not the server asked
	nameSlow        = "slow"        // NOERROR after slowDelay
	nameTruncated   = "truncated"   // over UDP TC and no records; over TCP an A
)

// slowDelay is how long the responder holds the answer of nameSlow.
const slowDelay = 50 * time.Millisecond

// The chain's records, as the module must report them.
var (
	chainEdge = "edge" + answersZone
	chainCDN  = "cdn" + answersZone
	chainA    = netip.MustParseAddr("192.0.2.7")
	chainAAAA = netip.MustParseAddr("2001:db8::7")
)

// DNS header flags and rcodes the script uses.
const (
	flagQR  = 0x8000
	flagAA  = 0x0400
	flagTC  = 0x0200
	flagRD  = 0x0100
	flagRA  = 0x0080
	rcodeOK = 0
	typeA   = 1
	typeCN  = 5
	typeAAA = 28
)

// scripted is what the responder does with one query.
type scripted struct {
	reply []byte        // nil: no reply
	delay time.Duration // before replying
	from  string        // reply from this address instead of the server's ("" for the server's)
}

// questionName returns the question name, the offset after it, and whether
// it parses; q is an uncompressed query.
func questionName(q []byte) (string, int, bool) {
	var labels []string
	off := 12
	for off < len(q) {
		n := int(q[off])
		if n == 0 {
			return strings.Join(labels, "."), off + 1, true
		}
		if n&0xc0 != 0 || off+1+n > len(q) {
			return "", 0, false
		}
		labels = append(labels, string(q[off+1:off+1+n]))
		off += 1 + n
	}
	return "", 0, false
}

// script decides the reply to q, which came over TCP when tcp.
func script(q []byte, tcp bool) scripted {
	name, end, ok := questionName(q)
	if len(q) < 12 || !ok || !strings.HasSuffix(name, answersZone) || len(q) < end+4 {
		return scripted{reply: answer(q)}
	}
	id := binary.BigEndian.Uint16(q)
	flags := uint16(flagQR | flagRA | binary.BigEndian.Uint16(q[2:])&flagRD)
	question := q[12 : end+4]
	reply := func(id, flags uint16, records ...[]byte) []byte {
		b := append(header(id, flags, 1, uint16(len(records))), question...)
		for _, r := range records {
			b = append(b, r...)
		}
		return b
	}
	switch first, _, _ := strings.Cut(name, "."); first {
	case nameChain:
		return scripted{reply: reply(id, flags,
			record([]byte{0xc0, 12}, typeCN, 300, encodeName(chainEdge)),
			record(encodeName(chainEdge), typeCN, 120, encodeName(chainCDN)),
			record(encodeName(chainCDN), typeA, 30, chainA.AsSlice()),
			record(encodeName(chainCDN), typeAAA, 30, chainAAAA.AsSlice()))}
	case nameNXDomain:
		return scripted{reply: reply(id, flags|flagAA|3)}
	case nameServFail:
		return scripted{reply: reply(id, flags|2)}
	case nameRefused:
		return scripted{reply: reply(id, flags|5)}
	case nameSilent:
		return scripted{}
	case nameWrongID:
		return scripted{reply: reply(id^0xffff, flags)}
	case nameWrongServer:
		return scripted{reply: reply(id, flags), from: "127.0.0.2:53"}
	case nameTruncated:
		if !tcp {
			return scripted{reply: reply(id, flags|flagTC)}
		}
		return scripted{reply: reply(id, flags, record([]byte{0xc0, 12}, typeA, 5, chainA.AsSlice()))}
	case nameSlow:
		return scripted{reply: reply(id, flags, record([]byte{0xc0, 12}, typeA, 5, chainA.AsSlice())), delay: slowDelay}
	}
	return scripted{reply: reply(id, flags|rcodeOK)}
}

// record is one resource record of class IN.
func record(owner []byte, typ uint16, ttl uint32, data []byte) []byte {
	b := append([]byte{}, owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// replyUDP sends what s says to the client at to, from pc or from s.from.
func replyUDP(pc net.PacketConn, to net.Addr, s scripted) {
	if s.reply == nil {
		return
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.from == "" {
		pc.WriteTo(s.reply, to)
		return
	}
	laddr, err := net.ResolveUDPAddr("udp4", s.from)
	if err != nil {
		return
	}
	raddr, ok := to.(*net.UDPAddr)
	if !ok {
		return
	}
	c, err := net.DialUDP("udp4", laddr, raddr)
	if err != nil {
		return
	}
	defer c.Close()
	c.Write(s.reply)
}
