package event

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// jsonEvent is the JSON form of an Event: one line of dnsmon-watch --json.
type jsonEvent struct {
	Seq         uint64       `json:"seq"`
	Kind        string       `json:"kind"`
	Lookup      uint64       `json:"lookup"`
	Time        time.Time    `json:"time"`
	PID         uint32       `json:"pid"`
	TID         uint32       `json:"tid"`
	Comm        string       `json:"comm"`
	UID         uint32       `json:"uid"`
	User        string       `json:"user,omitempty"`
	NetNS       uint32       `json:"netns"`
	Family      string       `json:"family"`
	Proto       string       `json:"proto"`
	Server      string       `json:"server"`
	Port        uint16       `json:"port"`
	Local       string       `json:"local,omitempty"`
	ID          uint16       `json:"id"`
	QName       string       `json:"qname,omitempty"`
	QType       string       `json:"qtype,omitempty"`
	Malformed   bool         `json:"malformed,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Data        string       `json:"data,omitempty"`
	QClass      string       `json:"qclass,omitempty"` // omitted for IN
	Rcode       string       `json:"rcode,omitempty"`
	DNSFlags    []string     `json:"flags,omitempty"`
	ANCount     *uint16      `json:"ancount,omitempty"`
	Answers     []jsonAnswer `json:"answers,omitempty"`
	Cut         []string     `json:"cut,omitempty"`
	Unanswered  bool         `json:"unanswered,omitempty"`
	LatencyUS   *int64       `json:"latency_us,omitempty"`
	ProcUnknown bool         `json:"proc_unknown,omitempty"`
	Exe         string       `json:"exe,omitempty"`
	Container   string       `json:"container,omitempty"`
	Via         *Asker       `json:"via,omitempty"`
}

// jsonAnswer is the JSON form of an Answer: data is an A or AAAA record's
// address or a CNAME record's target; length is RDLENGTH, given unless
// data is an address.
type jsonAnswer struct {
	Type   string  `json:"type"`
	TTL    uint32  `json:"ttl"`
	Data   string  `json:"data,omitempty"`
	Length *uint16 `json:"length,omitempty"`
}

// MarshalJSON writes the fields seq, kind ("query", "answer",
// "unanswered"), lookup, time (RFC 3339, UTC), pid, tid, comm, uid, netns,
// family ("ipv4"/"ipv6"), proto ("udp"/"tcp"), server, port, local
// (ADDR:PORT, from version-3 records), id, qname and qtype (mnemonic or
// TYPEnnn), plus user, exe, container, via (an Asker), qclass (when not
// IN) and proc_unknown when set. A malformed query has "malformed": true,
// reason and data (its first bytes, escaped) instead of qname, qtype and
// qclass.
// An answer adds rcode (mnemonic or RCODEn), flags (those of aa, tc, rd,
// ra, ad, cd set; omitted when none), ancount, answers, cut ("records",
// "names"; omitted when nothing is cut) and latency_us, and a malformed
// answer "malformed": true and reason beside its qname; an unanswered
// query adds "unanswered": true and latency_us. The header flags word's
// QR bit is implied by the kind and its opcode is always QUERY; its Z bit
// is not written.
func (e Event) MarshalJSON() ([]byte, error) {
	j := jsonEvent{
		Seq: e.Seq, Kind: e.Kind.String(), Lookup: e.Lookup, Time: e.Time.UTC(), PID: e.PID, TID: e.TID,
		Comm: e.Comm, UID: e.UID, User: e.User, NetNS: e.NetNS, Family: e.Family.String(), Proto: e.Proto.String(),
		Port: e.Port, ID: e.ID, ProcUnknown: e.ProcUnknown(), Exe: e.Exe, Container: e.Container, Via: e.Via,
	}
	if e.Server.IsValid() {
		j.Server = e.Server.String()
	}
	if e.Local.IsValid() {
		j.Local = e.Local.String()
	}
	switch {
	case e.Malformed() && e.Kind != KindAnswer:
		j.Malformed, j.Reason, j.Data = true, e.Reason.String(), e.QName
	default:
		if e.Malformed() {
			j.Malformed, j.Reason = true, e.Reason.String()
		}
		j.QName, j.QType = e.QName, e.QType.String()
		if e.QClass != ClassIN {
			j.QClass = e.QClass.String()
		}
	}
	latency := e.Latency.Microseconds()
	switch e.Kind {
	case KindAnswer:
		j.Rcode, j.DNSFlags, j.Cut = e.Rcode().String(), e.DNSFlagNames(), e.cutList()
		j.ANCount, j.LatencyUS = &e.ANCount, &latency
		for _, a := range e.Answers {
			ja := jsonAnswer{Type: a.Type.String(), TTL: a.TTL, Data: a.Name}
			if a.Addr.IsValid() {
				ja.Data = a.Addr.String()
			} else {
				ja.Length = &a.RDLength
			}
			j.Answers = append(j.Answers, ja)
		}
	case KindUnanswered:
		j.Unanswered, j.LatencyUS = true, &latency
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j jsonEvent
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d := Event{
		Seq: j.Seq, Lookup: j.Lookup, Time: j.Time.UTC(), PID: j.PID, TID: j.TID, Comm: j.Comm, UID: j.UID,
		User: j.User, NetNS: j.NetNS, Port: j.Port, ID: j.ID, QName: j.QName,
		Exe: j.Exe, Container: j.Container, Via: j.Via, QClass: ClassIN,
	}
	if j.ProcUnknown {
		d.Flags |= FlagProcUnknown
	}
	var err error
	switch {
	case j.Kind != "":
		if d.Kind, err = ParseKind(j.Kind); err != nil {
			return err
		}
	case j.Unanswered:
		d.Kind = KindUnanswered
	}
	if d.Family, err = parseFamily(j.Family); err != nil {
		return err
	}
	if d.Proto, err = parseProto(j.Proto); err != nil {
		return err
	}
	if j.Server != "" {
		if d.Server, err = netip.ParseAddr(j.Server); err != nil {
			return fmt.Errorf("event server: %w", err)
		}
	}
	if j.Local != "" {
		if d.Local, err = netip.ParseAddrPort(j.Local); err != nil {
			return fmt.Errorf("event local address: %w", err)
		}
	}
	if j.LatencyUS != nil {
		d.Latency = time.Duration(*j.LatencyUS) * time.Microsecond
	}
	if j.Malformed {
		d.Flags |= FlagMalformed
		if d.Reason, err = ParseReason(j.Reason); err != nil {
			return err
		}
		if d.Kind != KindAnswer {
			d.QName, d.QClass = j.Data, 0
			*e = d
			return nil
		}
	}
	if d.QType, err = ParseQType(j.QType); err != nil {
		return err
	}
	if j.QClass != "" {
		if d.QClass, err = ParseQClass(j.QClass); err != nil {
			return err
		}
	}
	if d.Kind == KindAnswer {
		if err := d.unmarshalAnswer(&j); err != nil {
			return err
		}
	}
	*e = d
	return nil
}

// unmarshalAnswer reads the fields MarshalJSON writes for an answer.
func (e *Event) unmarshalAnswer(j *jsonEvent) error {
	// Every answer is a response (QR) to a QUERY (opcode 0).
	e.DNSFlags = DNSFlagQR
	if j.Rcode != "" {
		rc, err := ParseRcode(j.Rcode)
		if err != nil {
			return err
		}
		if rc > rcodeMask {
			return fmt.Errorf("response code %d does not fit the header's four bits", rc)
		}
		e.DNSFlags |= uint16(rc)
	}
	for _, f := range j.DNSFlags {
		bit, err := parseDNSFlag(f)
		if err != nil {
			return err
		}
		e.DNSFlags |= bit
	}
	for _, c := range j.Cut {
		bit, err := parseCut(c)
		if err != nil {
			return err
		}
		e.Cut |= bit
	}
	if j.ANCount != nil {
		e.ANCount = *j.ANCount
	}
	for i, ja := range j.Answers {
		t, err := ParseQType(ja.Type)
		if err != nil {
			return fmt.Errorf("answer %d: %w", i, err)
		}
		a := Answer{Type: t, TTL: ja.TTL}
		if ja.Length != nil {
			a.RDLength = *ja.Length
		}
		switch n := addrLenOf(t); {
		case n != 0 && ja.Data != "":
			if a.Addr, err = netip.ParseAddr(ja.Data); err != nil {
				return fmt.Errorf("answer %d: %w", i, err)
			}
			if ja.Length == nil {
				a.RDLength = uint16(n)
			}
		case t == TypeCNAME:
			a.Name = ja.Data
		case ja.Data != "":
			return fmt.Errorf("answer %d: data in a %s record", i, t)
		}
		e.Answers = append(e.Answers, a)
	}
	return nil
}

func parseFamily(s string) (Family, error) {
	switch s {
	case "ipv4":
		return FamilyIPv4, nil
	case "ipv6":
		return FamilyIPv6, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown address family %q", s)
	}
	return Family(n), nil
}

func parseProto(s string) (Proto, error) {
	switch s {
	case "udp":
		return ProtoUDP, nil
	case "tcp":
		return ProtoTCP, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("unknown protocol %q", s)
	}
	return Proto(n), nil
}

// MarshalJSON writes the counters the module keeps, named as in struct
// dnsmon_stats: a module of an earlier version (V1, V2) has fewer, and a
// counter it does not keep is not a zero.
func (s Stats) MarshalJSON() ([]byte, error) {
	fields := StatsLayout()[:s.size()/8]
	vals := s.counters()
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.Name)
		b = append(b, ':')
		b = strconv.AppendUint(b, vals[i], 10)
	}
	return append(b, '}'), nil
}
