package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// startResponder runs runResponder in a child process (this program, as
// "responder") on ports and returns once it serves them. Its errors go to
// the console; it runs until the guest powers off.
func startResponder(ports ...int) error {
	args := []string{"responder"}
	for _, p := range ports {
		args = append(args, "-port", strconv.Itoa(p))
	}
	return startServer("/init", args...)
}

// startServer starts path with args and waits for the "ready" line it
// prints once it serves.
func startServer(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s %s: %w", path, args[0], err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		return fmt.Errorf("%s %s did not start: %q %v", path, args[0], line, err)
	}
	return nil
}

// runResponder answers every DNS message on 127.0.0.1 and ::1, UDP and TCP,
// on each -port, until killed.
func runResponder(args []string) error {
	fs := flag.NewFlagSet("responder", flag.ContinueOnError)
	var ports portList
	fs.Var(&ports, "port", "port to serve (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(ports) == 0 {
		ports = portList{53}
	}
	errc := make(chan error, 1)
	for _, p := range ports {
		for _, host := range []string{"127.0.0.1", "::1"} {
			addr := net.JoinHostPort(host, strconv.Itoa(p))
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("listening on udp %s: %w", addr, err)
			}
			go serveUDP(pc, errc)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on tcp %s: %w", addr, err)
			}
			go serveTCP(ln, errc)
		}
	}
	fmt.Println("ready")
	return <-errc
}

type portList []int

func (p *portList) String() string { return fmt.Sprint(*p) }
func (p *portList) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("bad port %q", s)
	}
	*p = append(*p, n)
	return nil
}

func serveUDP(pc net.PacketConn, errc chan<- error) {
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			errc <- err
			return
		}
		if n < 12 || buf[2]&0x80 != 0 {
			continue
		}
		s := script(buf[:n], false)
		if s.delay > 0 {
			go replyUDP(pc, from, s)
		} else {
			replyUDP(pc, from, s)
		}
	}
}

func serveTCP(ln net.Listener, errc chan<- error) {
	for {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		go func() {
			defer c.Close()
			for {
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				r := script(msg, true).reply
				if r == nil {
					return
				}
				out := binary.BigEndian.AppendUint16(nil, uint16(len(r)))
				if _, err := c.Write(append(out, r...)); err != nil && !errors.Is(err, net.ErrClosed) {
					return
				}
			}
		}()
	}
}
