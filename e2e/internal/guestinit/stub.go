package main

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

// The guest's stub resolver: a forwarder on stubAddr that asks the
// responder on 127.0.0.1:53 from its own socket, as systemd-resolved on
// 127.0.0.53 asks its upstream.
const (
	stubAddr = "127.0.0.53:53"
	stubComm = "dq-stub"
)

// startStub runs runStub as stubComm in a child process and returns once it
// serves. It runs until the guest powers off.
func (r *runner) startStub() error {
	path := "/bin/" + stubComm
	if err := os.Symlink("/init", path); err != nil && !os.IsExist(err) {
		return err
	}
	return startServer(path, "stub")
}

// runStub forwards each UDP query on stubAddr upstream with an id of its
// own and relays the response with the asker's id.
func runStub([]string) error {
	pc, err := net.ListenPacket("udp4", stubAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", stubAddr, err)
	}
	fmt.Println("ready")
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if n < 12 || buf[2]&0x80 != 0 {
			continue
		}
		q := append([]byte{}, buf[:n]...)
		go func() {
			if r, err := forward(q); err == nil {
				pc.WriteTo(r, from)
			} else {
				fmt.Println("guestinit: stub:", err)
			}
		}()
	}
}

// forward asks 127.0.0.1:53 for q under a fresh id and returns the
// response under q's.
func forward(q []byte) ([]byte, error) {
	c, err := net.Dial("udp4", "127.0.0.1:53")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	id := binary.BigEndian.Uint16(q)
	up := append([]byte{}, q...)
	binary.BigEndian.PutUint16(up, uint16(rand.N(1<<16)))
	if _, err := c.Write(up); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	r := make([]byte, 65536)
	n, err := c.Read(r)
	if err != nil {
		return nil, err
	}
	if n < 12 {
		return nil, fmt.Errorf("upstream response of %d bytes", n)
	}
	binary.BigEndian.PutUint16(r, id)
	return r[:n], nil
}
