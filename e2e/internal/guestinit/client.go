package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clientReport is what a client prints on stdout, one JSON line.
type clientReport struct {
	Pid     int    `json:"pid"`
	Tid     int    `json:"tid"`
	Uid     int    `json:"uid"`
	Netns   uint64 `json:"netns"`
	Sent    int    `json:"sent"`
	Replies int    `json:"replies"`
	Err     string `json:"err,omitempty"`
}

// runClient sends DNS messages from one locked OS thread so the reported tid
// is the sender's.
func runClient(args []string) error {
	runtime.LockOSThread()
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	network := fs.String("net", "udp4", "udp4, udp6, tcp4 or tcp6")
	addr := fs.String("addr", "127.0.0.1:53", "server address")
	name := fs.String("name", "example.test", "query name")
	qtype := fs.String("type", "A", "query type mnemonic")
	id := fs.Uint("id", 4242, "DNS message id")
	raw := fs.String("raw", "", "hex bytes to send instead of a query")
	empty := fs.Bool("empty", false, "send an empty datagram instead of a query")
	writes := fs.String("writes", "", "TCP: comma-separated hex chunks written as they are (length prefixes included), one write each")
	gap := fs.Duration("gap", 200*time.Millisecond, "TCP: pause between the -writes chunks, so that each leaves as its own segment")
	fastOpen := fs.Bool("fastopen", false, "TCP: send the first -writes chunk in the SYN (TCP Fast Open, MSG_FASTOPEN)")
	count := fs.Int("count", 1, "messages to send (flood when > 1; names get a numeric prefix)")
	lo := fs.Bool("lo-up", false, "bring lo up first (in a fresh network namespace)")
	wait := fs.Duration("wait", 2*time.Second, "how long to wait for a reply (0: do not wait)")
	bind := fs.String("bind", "", "UDP: send from this ADDR:PORT (a forged response from a server's port)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep := clientReport{Pid: os.Getpid(), Tid: unix.Gettid(), Uid: os.Getuid()}
	rep.Netns, _ = netnsInode()
	err := func() error {
		if *lo {
			if err := loUp(); err != nil {
				return err
			}
		}
		var msgs func(i int) []byte
		if *empty {
			msgs = func(int) []byte { return []byte{} }
		} else if *raw != "" {
			b, err := hex.DecodeString(*raw)
			if err != nil {
				return fmt.Errorf("bad -raw: %w", err)
			}
			msgs = func(int) []byte { return b }
		} else {
			t, ok := qtypes[*qtype]
			if !ok {
				return fmt.Errorf("unknown type %q", *qtype)
			}
			msgs = func(i int) []byte {
				if *count > 1 {
					return query(uint16(i), fmt.Sprintf("f%d.%s", i, *name), t)
				}
				return query(uint16(*id), *name, t)
			}
		}
		tcp := *network == "tcp4" || *network == "tcp6"
		if *writes != "" {
			if !tcp {
				return fmt.Errorf("-writes needs a TCP -net, not %s", *network)
			}
			chunks := strings.Split(*writes, ",")
			first, err := hex.DecodeString(chunks[0])
			if err != nil {
				return fmt.Errorf("bad -writes chunk 0: %w", err)
			}
			var c net.Conn
			if *fastOpen {
				c, err = dialFastOpen(*network, *addr, first)
				chunks = chunks[1:]
				rep.Sent++
			} else {
				c, err = net.Dial(*network, *addr)
			}
			if err != nil {
				return fmt.Errorf("dialing %s %s: %w", *network, *addr, err)
			}
			defer c.Close()
			for i, chunk := range chunks {
				b, err := hex.DecodeString(chunk)
				if err != nil {
					return fmt.Errorf("bad -writes chunk %d: %w", i, err)
				}
				if i > 0 || *fastOpen {
					time.Sleep(*gap)
				}
				if _, err := c.Write(b); err != nil {
					return fmt.Errorf("writing chunk %d: %w", i, err)
				}
				rep.Sent++
			}
			// Let the last segment leave before the close sends a FIN.
			time.Sleep(*gap)
			return nil
		}
		d := net.Dialer{}
		if *bind != "" {
			if tcp {
				return fmt.Errorf("-bind needs a UDP -net, not %s", *network)
			}
			la, err := net.ResolveUDPAddr(*network, *bind)
			if err != nil {
				return fmt.Errorf("bad -bind: %w", err)
			}
			d.LocalAddr = la
		}
		c, err := d.Dial(*network, *addr)
		if err != nil {
			return fmt.Errorf("dialing %s %s: %w", *network, *addr, err)
		}
		defer c.Close()
		for i := 0; i < *count; i++ {
			m := msgs(i)
			if tcp {
				// Length prefix and message in one write: one segment.
				m = append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...)
			}
			if _, err := c.Write(m); err != nil {
				if *count > 1 {
					continue // a flood ignores ICMP errors bouncing back
				}
				return fmt.Errorf("sending: %w", err)
			}
			rep.Sent++
		}
		if *wait <= 0 || *count > 1 {
			return nil
		}
		c.SetReadDeadline(time.Now().Add(*wait))
		buf := make([]byte, 65536)
		var n int
		if tcp {
			n, err = io.ReadAtLeast(c, buf, 2)
		} else {
			n, err = c.Read(buf)
		}
		if err == nil && n > 0 {
			rep.Replies++
		}
		return nil
	}()
	if err != nil {
		rep.Err = err.Error()
	}
	b, _ := json.Marshal(rep)
	fmt.Println(string(b))
	return err
}

// dialFastOpen connects with data in the SYN: sendto(MSG_FASTOPEN) on a
// fresh TCP socket, with net.ipv4.tcp_fastopen allowing it without a
// cookie.  A server that does not take Fast Open acknowledges only the SYN,
// and the kernel then sends the data again: a retransmission, made without
// any packet loss.
func dialFastOpen(network, addr string, data []byte) (net.Conn, error) {
	ta, err := net.ResolveTCPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	domain, ip := unix.AF_INET, ta.AddrPort().Addr()
	var sa unix.Sockaddr
	if network == "tcp6" {
		domain = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: ta.Port, Addr: ip.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: ta.Port, Addr: ip.As4()}
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Sendto(fd, data, unix.MSG_FASTOPEN, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sendto MSG_FASTOPEN: %w", err)
	}
	f := os.NewFile(uintptr(fd), "fastopen")
	defer f.Close()
	return net.FileConn(f)
}
