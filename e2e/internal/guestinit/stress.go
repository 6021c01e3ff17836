package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/fetcher/loader"
)

// Bounds of the unload-under-load scenario: it stops after stressCycles
// loads and unloads or after stressTime (proto.StressSeconds overrides
// it), whichever comes first, and needs at least stressMinCycles.
const (
	stressCycles    = 200
	stressTime      = 45 * time.Second
	stressMinCycles = 20
)

// runStress is pid 1 in stress mode (proto.StressMode on the command line).
func runStress() {
	r := &runner{clients: map[string]bool{}}
	fmt.Printf("guestinit: stress on %d CPUs\n", runtime.NumCPU())
	if r.step("boot", func() error { return r.boot(nil) }) {
		r.step("unload-under-load", r.unloadUnderLoad)
		r.step("dmesg-clean", r.dmesgClean)
	}
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, r.passed, r.failed)
	powerOff()
}

// unloadUnderLoad loads and unloads /dnsmon.ko while a sender per CPU
// floods UDP queries, another opens TCP connections and writes queries,
// readers open, poll, read and close /dev/dnsmon, and short-lived network
// namespaces are made, send a query and go away (the hooks are registered
// per namespace, so loading, unloading and namespace setup and cleanup
// interleave). An unload refused
// because a reader holds the device ("in use") is expected and retried;
// any other failure, or a kernel report (checked next by dmesg-clean),
// fails the scenario.
func (r *runner) unloadUnderLoad() error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("%w: one CPU: boot the guest with -smp 2 or more", errSkip)
	}
	limit := stressTime
	if v, ok := bootValue(proto.StressSeconds); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s=%q: want a number of seconds", proto.StressSeconds, v)
		}
		limit = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sent, opened, namespaces atomic.Int64
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() { defer wg.Done(); floodUDP(ctx, &sent) }()
	}
	wg.Add(3)
	go func() { defer wg.Done(); floodTCP(ctx, &sent) }()
	go func() { defer wg.Done(); churnReaders(ctx, &opened) }()
	go func() { defer wg.Done(); r.churnNamespaces(ctx, &namespaces) }()

	var cycles, busy int
	var err error
	deadline := time.Now().Add(limit)
	for cycles < stressCycles && time.Now().Before(deadline) {
		if _, err = loader.Load(ctx, "/dnsmon.ko", []string{"ports=53"}); err != nil {
			err = fmt.Errorf("load %d: %w", cycles+1, err)
			break
		}
		for {
			err = loader.Unload(ctx, "dnsmon")
			if !errors.Is(err, loader.ErrInUse) || time.Now().After(deadline.Add(30*time.Second)) {
				break
			}
			busy++
			time.Sleep(time.Millisecond)
		}
		if err != nil {
			err = fmt.Errorf("unload %d: %w", cycles+1, err)
			break
		}
		cycles++
	}
	cancel()
	wg.Wait()
	fmt.Printf("guestinit: unload-under-load: %d cycles, %d unloads refused while a reader held the device, %d queries sent, %d opens, %d namespaces\n",
		cycles, busy, sent.Load(), opened.Load(), namespaces.Load())
	if err != nil {
		return err
	}
	if cycles < stressMinCycles || sent.Load() == 0 || opened.Load() == 0 || namespaces.Load() == 0 {
		return fmt.Errorf("too little ran: %d cycles, %d queries, %d opens, %d namespaces", cycles, sent.Load(), opened.Load(), namespaces.Load())
	}
	return nil
}

// churnNamespaces runs clients in new network namespaces until ctx ends:
// each brings up its lo, sends one query and exits, which destroys its
// namespace.
func (r *runner) churnNamespaces(ctx context.Context, made *atomic.Int64) {
	for ctx.Err() == nil {
		if _, err := r.client("dq-stress-ns", 0, true, "-lo-up", "-wait", "0", "-name", "ns.stress.dnsmon.test"); err == nil {
			made.Add(1)
		}
	}
}

// floodUDP sends queries to 127.0.0.1:53 until ctx ends.
func floodUDP(ctx context.Context, sent *atomic.Int64) {
	runtime.LockOSThread()
	c, err := net.Dial("udp4", "127.0.0.1:53")
	if err != nil {
		fmt.Println("guestinit: stress udp:", err)
		return
	}
	defer c.Close()
	q := query(1, "stress.dnsmon.test", 1)
	for ctx.Err() == nil {
		if _, err := c.Write(q); err == nil {
			sent.Add(1)
		}
	}
}

// floodTCP opens connections to the responder on 127.0.0.1:53 and writes a
// length-prefixed query on each until ctx ends.
func floodTCP(ctx context.Context, sent *atomic.Int64) {
	q := query(2, "tcp.stress.dnsmon.test", 1)
	msg := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
	d := net.Dialer{Timeout: time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp4", "127.0.0.1:53")
		if err != nil {
			continue
		}
		if _, err := c.Write(msg); err == nil {
			sent.Add(1)
		}
		c.Close()
	}
}

// churnReaders opens /dev/dnsmon while it exists, polls and reads it
// briefly and closes it, until ctx ends.
func churnReaders(ctx context.Context, opened *atomic.Int64) {
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		fd, err := unix.Open("/dev/dnsmon", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		opened.Add(1)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(fds, 5); n > 0 {
			_, rerr := unix.Read(fd, buf)
			if rerr != nil && !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.ENODEV) {
				fmt.Println("guestinit: stress read:", rerr)
			}
		}
		unix.Close(fd)
		time.Sleep(2 * time.Millisecond)
	}
}
