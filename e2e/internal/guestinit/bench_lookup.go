package main

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"golang.org/x/sys/unix"
)

// The lookup benchmarks ask responders on loopback addresses of their own
// (the sink holds 127.0.0.1:53): each lookup crosses the LOCAL_OUT and
// LOCAL_IN hooks twice, query and response, and the module pairs the
// response with its query.
var (
	benchLookupIP = [4]byte{127, 0, 0, 2} // answers at once
	benchSlowIP   = [4]byte{127, 0, 0, 3} // answers after benchSlowDelay
)

// benchSlowDelay is the fixed delay of the latency benchmark's responder:
// the latency the module reports must come out at it, within 10%.
const benchSlowDelay = 50 * time.Millisecond

// benchLatencyLookups is how many lookups the latency benchmark times.
const benchLatencyLookups = 20

// serveLookups answers every query on ip:53 after delay, until the guest
// powers off.
func serveLookups(ip [4]byte, delay time.Duration) (int, error) {
	fd, err := udpSocket()
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: benchDNSPort, Addr: ip}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("binding the responder on %v:53: %w", ip, err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				fmt.Println("guestinit: bench responder:", err)
				return
			}
			if r := answer(buf[:n]); r != nil {
				time.Sleep(delay)
				unix.Sendto(fd, r, 0, from)
			}
		}
	}()
	return fd, nil
}

// lookupClient is a UDP socket connected to ip:53.
func lookupClient(ip [4]byte) (int, error) {
	fd, err := udpSocket()
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: benchDNSPort, Addr: ip}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connecting to %v:53: %w", ip, err)
	}
	return fd, nil
}

// lookupN asks n times on fd, one query at a time, and returns the guest
// time each round trip took. The calls may block, so they are made with
// Syscall, which lets the responder's goroutine run meanwhile.
func lookupN(fd int, q []byte, n int) ([]time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rtts := make([]time.Duration, 0, n)
	buf := make([]byte, 2048)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := unix.Write(fd, q); err != nil {
			return nil, fmt.Errorf("query %d of %d: %w", i, n, err)
		}
		if _, err := unix.Read(fd, buf); err != nil {
			return nil, fmt.Errorf("response %d of %d: %w", i, n, err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	return rtts, nil
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// lookupStates are timed in this order in every round: unloaded; loaded
// with its defaults and no reader (once the ring is full, each query and
// answer is only counted as dropped, and a response finds no query to pair
// with); loaded with a ring that holds every event of the run, so that
// every query waits in the table and every response is paired, built
// into an answer event and queued.
var lookupStates = []hookState{
	{},
	{loaded: true},
	{loaded: true, queued: true, params: []string{"ring_size=65536"}},
}

// lookup alternates the lookupStates round after round and times the same
// lookups in each.
func (b *bencher) lookup() error {
	if _, err := serveLookups(benchLookupIP, 0); err != nil {
		return err
	}
	fd, err := lookupClient(benchLookupIP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	n := max(b.cfg.count/10, 1)
	if 2*(n+n/20) > queueCapacity {
		return fmt.Errorf("dnsmon.bench.count=%d: the queued lookups need 2 * (count/10 + count/200) <= %d events", b.cfg.count, queueCapacity)
	}
	if _, err := lookupN(fd, b.dnsQuery, n/10); err != nil {
		return err
	}
	for round := 1; round <= b.cfg.rounds; round++ {
		for _, st := range lookupStates {
			if err := b.lookupRun(fd, n, round, st); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bencher) lookupRun(fd, n, round int, st hookState) error {
	if st.loaded {
		if out, err := tool("dnsmon-load", append([]string{"/dnsmon.ko"}, st.params...)...); err != nil {
			return fmt.Errorf("dnsmon-load: %v: %s", err, out)
		}
	}
	time.Sleep(settleTime)
	if _, err := lookupN(fd, b.dnsQuery, max(n/20, 1)); err != nil {
		return err
	}
	rtts, err := lookupN(fd, b.dnsQuery, n)
	if err != nil {
		return err
	}
	emit(proto.BenchSample{Kind: proto.BenchLookup, Round: round, Loaded: st.loaded, Queued: st.queued, Port: benchDNSPort, Sent: int64(n), Ns: sum(rtts).Nanoseconds()})
	if st.queued {
		c, out, err := stats()
		if err != nil {
			return err
		}
		if want := int64(n + max(n/20, 1)); c["dropped"] != 0 || c["answers"] != want {
			return fmt.Errorf("the queued lookups dropped %d events and paired %d answers; want none dropped and %d paired:\n%s", c["dropped"], c["answers"], want, out)
		}
	}
	if st.loaded {
		if out, err := tool("dnsmon-load", "--unload"); err != nil {
			return fmt.Errorf("dnsmon-load --unload: %v: %s", err, out)
		}
	}
	return nil
}

// latency asks a responder that holds each answer benchSlowDelay, with
// dnsmon-watch --json reading, and reports the median latency the module
// put on the answers next to the median round trip the client saw.
func (b *bencher) latency() error {
	if _, err := serveLookups(benchSlowIP, benchSlowDelay); err != nil {
		return err
	}
	fd, err := lookupClient(benchSlowIP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if out, err := tool("dnsmon-load", "/dnsmon.ko", "log=0"); err != nil {
		return fmt.Errorf("dnsmon-load: %v: %s", err, out)
	}
	defer func() {
		if out, err := tool("dnsmon-load", "--unload"); err != nil {
			fmt.Println("guestinit: unload after latency:", err, out)
		}
	}()
	w, err := startWatcher("--json")
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	rtts, err := lookupN(fd, b.dnsQuery, benchLatencyLookups)
	if err != nil {
		w.stop()
		return err
	}
	w.quiet(time.Second, 10*time.Second)
	w.stop()
	var lat []time.Duration
	w.mu.Lock()
	for _, ev := range w.lookups {
		if us, ok := ev.num("latency_us"); ok && ev.str("kind") == "answer" && strings.HasPrefix(ev.str("server"), "127.0.0.3") {
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	w.mu.Unlock()
	if len(lat) == 0 {
		return errors.New("dnsmon-watch showed no answer from the delaying responder")
	}
	slices.Sort(lat)
	slices.Sort(rtts)
	emit(proto.BenchSample{Kind: proto.BenchLatency, Sent: int64(len(rtts)), Seen: int64(len(lat)),
		Ns: lat[len(lat)/2].Nanoseconds(), ClientNs: rtts[len(rtts)/2].Nanoseconds(), DelayNs: benchSlowDelay.Nanoseconds()})
	if len(lat) != len(rtts) {
		return fmt.Errorf("%d lookups but %d answers shown", len(rtts), len(lat))
	}
	return nil
}
