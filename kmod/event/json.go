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
	Seq         uint64    `json:"seq"`
	Time        time.Time `json:"time"`
	PID         uint32    `json:"pid"`
	TID         uint32    `json:"tid"`
	Comm        string    `json:"comm"`
	UID         uint32    `json:"uid"`
	User        string    `json:"user,omitempty"`
	NetNS       uint32    `json:"netns"`
	Family      string    `json:"family"`
	Proto       string    `json:"proto"`
	Server      string    `json:"server"`
	Port        uint16    `json:"port"`
	ID          uint16    `json:"id"`
	QName       string    `json:"qname,omitempty"`
	QType       string    `json:"qtype,omitempty"`
	Malformed   bool      `json:"malformed,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Data        string    `json:"data,omitempty"`
	QClass      string    `json:"qclass,omitempty"` // omitted for IN
	ProcUnknown bool      `json:"proc_unknown,omitempty"`
	Exe         string    `json:"exe,omitempty"`
	Container   string    `json:"container,omitempty"`
}

// MarshalJSON writes the fields seq, time (RFC 3339, UTC), pid, tid, comm,
// uid, netns, family ("ipv4"/"ipv6"), proto ("udp"/"tcp"), server, port,
// id, qname and qtype (mnemonic or TYPEnnn), plus user, exe, container,
// qclass (when not IN) and proc_unknown when set.  A malformed message has
// "malformed": true, reason and data (its first bytes, escaped) instead of
// qname, qtype and qclass.
func (e Event) MarshalJSON() ([]byte, error) {
	j := jsonEvent{
		Seq: e.Seq, Time: e.Time.UTC(), PID: e.PID, TID: e.TID, Comm: e.Comm, UID: e.UID,
		User: e.User, NetNS: e.NetNS, Family: e.Family.String(), Proto: e.Proto.String(),
		Port: e.Port, ID: e.ID, ProcUnknown: e.ProcUnknown(), Exe: e.Exe, Container: e.Container,
	}
	if e.Server.IsValid() {
		j.Server = e.Server.String()
	}
	switch {
	case e.Malformed():
		j.Malformed, j.Reason, j.Data = true, e.Reason.String(), e.QName
	default:
		j.QName, j.QType = e.QName, e.QType.String()
		if e.QClass != ClassIN {
			j.QClass = e.QClass.String()
		}
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
		Seq: j.Seq, Time: j.Time.UTC(), PID: j.PID, TID: j.TID, Comm: j.Comm, UID: j.UID,
		User: j.User, NetNS: j.NetNS, Port: j.Port, ID: j.ID, QName: j.QName,
		Exe: j.Exe, Container: j.Container, QClass: ClassIN,
	}
	if j.ProcUnknown {
		d.Flags |= FlagProcUnknown
	}
	var err error
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
	if j.Malformed {
		d.Flags |= FlagMalformed
		d.QName, d.QClass = j.Data, 0
		if d.Reason, err = ParseReason(j.Reason); err != nil {
			return err
		}
		*e = d
		return nil
	}
	if d.QType, err = ParseQType(j.QType); err != nil {
		return err
	}
	if j.QClass != "" {
		if d.QClass, err = ParseQClass(j.QClass); err != nil {
			return err
		}
	}
	*e = d
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

// MarshalJSON writes every counter, or for a first-version module (V1)
// only the four it has: a counter it does not keep is not a zero.
func (s Stats) MarshalJSON() ([]byte, error) {
	type all Stats // without the method
	if !s.V1 {
		return json.Marshal(all(s))
	}
	return json.Marshal(struct {
		Events   uint64 `json:"events"`
		Dropped  uint64 `json:"dropped"`
		RingSize uint64 `json:"ring_size"`
		Queued   uint64 `json:"queued"`
	}{s.Events, s.Dropped, s.RingSize, s.Queued})
}
