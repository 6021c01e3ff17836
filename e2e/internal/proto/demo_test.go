package proto

import "testing"

func TestParseDemoLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want DemoLine
		ok   bool
	}{
		{"watch", "DNSMON-DEMO watch 2026-11-27 pid=1 comm=x udp 127.0.0.1:53 A a.test", DemoLine{DemoWatch, "2026-11-27 pid=1 comm=x udp 127.0.0.1:53 A a.test"}, true},
		{"after kernel output", "[    3.1] foo DNSMON-DEMO cmd dnsmon-load\r", DemoLine{DemoCmd, "dnsmon-load"}, true},
		{"kind only", "DNSMON-DEMO say", DemoLine{DemoSay, ""}, true},
		{"no kind", "DNSMON-DEMO ", DemoLine{}, false},
		{"other line", "DNSMON-VERDICT {}", DemoLine{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseDemoLine(tt.line)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseDemoLine(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDemoLineRoundTrip(t *testing.T) {
	l := DemoLine{Kind: DemoOut, Text: "wrote /var/lib/dnsmon/modules/6.1.0-50-amd64/dnsmon.ko"}
	got, ok := ParseDemoLine(l.Format())
	if !ok || got != l {
		t.Errorf("ParseDemoLine(%q) = %+v, %v; want %+v", l.Format(), got, ok, l)
	}
}

func TestDemoQueries(t *testing.T) {
	var otherUser, newNetns, tcp6 bool
	comms := map[string]bool{}
	for _, q := range DemoQueries() {
		if len(q.Comm) > 15 {
			t.Errorf("comm %q is longer than the kernel's 15 bytes", q.Comm)
		}
		if comms[q.Comm] {
			t.Errorf("comm %q used twice", q.Comm)
		}
		comms[q.Comm] = true
		otherUser = otherUser || q.UID != 0
		newNetns = newNetns || q.NewNetns
		tcp6 = tcp6 || q.Net == "tcp6"
	}
	if !otherUser || !newNetns || !tcp6 {
		t.Errorf("want a query of another user (%v), one from a new network namespace (%v), one over TCP/IPv6 (%v)", otherUser, newNetns, tcp6)
	}
}
