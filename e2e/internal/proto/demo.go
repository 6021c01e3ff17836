package proto

import "strings"

// DemoMode is the kernel command line parameter that makes the guest init
// run the demo (fetch, load, watch, a few queries) instead of the test
// scenarios.
const DemoMode = "dnsmon.mode=demo"

// DemoPrefix starts every console line of the demo meant for the host's
// terminal: "DNSMON-DEMO KIND TEXT".
const DemoPrefix = "DNSMON-DEMO "

// Kinds of demo lines.
const (
	DemoSay   = "say"   // narration
	DemoCmd   = "cmd"   // a command the guest runs
	DemoOut   = "out"   // a command's output
	DemoWatch = "watch" // one line of dnsmon-watch's output
	DemoDmesg = "dmesg" // a "dnsmon: DNS Query for" kernel log line
)

// DemoLine is one demo console line.
type DemoLine struct {
	Kind, Text string
}

// Format renders the line for the console (without newline).
func (l DemoLine) Format() string {
	return DemoPrefix + l.Kind + " " + l.Text
}

// ParseDemoLine extracts a demo line from a console line; the prefix may
// follow other output on the same line.
func ParseDemoLine(line string) (DemoLine, bool) {
	i := strings.Index(line, DemoPrefix)
	if i < 0 {
		return DemoLine{}, false
	}
	kind, text, _ := strings.Cut(strings.TrimRight(line[i+len(DemoPrefix):], "\r\n"), " ")
	if kind == "" {
		return DemoLine{}, false
	}
	return DemoLine{Kind: kind, Text: text}, true
}

// DemoQuery is one query the demo makes from its own program.
type DemoQuery struct {
	// Comm is the program's name (at most 15 bytes: the kernel's comm).
	Comm string
	// UID is the user the program runs as, User its name in the guest's
	// /etc/passwd.
	UID  int
	User string
	// NewNetns runs the program in a new network namespace.
	NewNetns bool
	// Net is udp4, udp6, tcp4 or tcp6; Server the responder's address.
	Net, Server string
	// Name and Type are the question.
	Name, Type string
}

// Proto is "udp" or "tcp".
func (q DemoQuery) Proto() string { return q.Net[:3] }

// DemoQueries returns the demo's queries: distinct programs, one of
// another user, one from a new network namespace, one over TCP and IPv6.
func DemoQueries() []DemoQuery {
	return []DemoQuery{
		{Comm: "webshop", UID: 0, User: "root", Net: "udp4", Server: "127.0.0.1:53", Name: "www.example.com", Type: "A"},
		{Comm: "backup-agent", UID: 1000, User: "alice", Net: "udp6", Server: "[::1]:53", Name: "backup.example.org", Type: "AAAA"},
		{Comm: "sandboxed", UID: 0, User: "root", NewNetns: true, Net: "udp4", Server: "127.0.0.1:53", Name: "sandbox.example.net", Type: "A"},
		{Comm: "mail-relay", UID: 0, User: "root", Net: "tcp6", Server: "[::1]:53", Name: "example.com", Type: "MX"},
	}
}
