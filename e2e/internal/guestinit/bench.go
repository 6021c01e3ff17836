package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"golang.org/x/sys/unix"
)

// Ports the benchmark sends to on 127.0.0.1: a port no hook cares about,
// and DNS.
const (
	benchOtherPort = 9 // discard
	benchDNSPort   = 53
)

// benchConfig is read from dnsmon.bench.NAME=VALUE on the kernel command
// line.
type benchConfig struct {
	rounds  int   // alternating unloaded/loaded rounds of the hook cost
	count   int   // datagrams per timed run
	queries int   // queries per delivery rate
	rates   []int // delivery rates, queries per second; 0 = unpaced
}

func readBenchConfig() benchConfig {
	c := benchConfig{rounds: 8, count: 60000, queries: 20000,
		rates: []int{5000, 10000, 12500, 15000, 17500, 20000, 30000, 50000, 0}}
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		k, v, ok := strings.Cut(strings.TrimPrefix(f, "dnsmon.bench."), "=")
		if !ok || !strings.HasPrefix(f, "dnsmon.bench.") {
			continue
		}
		n, _ := strconv.Atoi(v)
		switch k {
		case "rounds":
			c.rounds = max(n, 1)
		case "count":
			c.count = max(n, 1)
		case "queries":
			c.queries = max(n, 1)
		case "rates":
			c.rates = nil
			for _, s := range strings.Split(v, ",") {
				if r, err := strconv.Atoi(s); err == nil && r >= 0 {
					c.rates = append(c.rates, r)
				}
			}
		}
	}
	return c
}

// runBench is pid 1 in bench mode (proto.BenchMode on the command line): it
// prints one proto.BenchSample line per measurement, a verdict per phase,
// the done line, and powers off.
func runBench() {
	r := &runner{clients: map[string]bool{}}
	c := readBenchConfig()
	b := &bencher{cfg: c}
	if r.step("bench-setup", b.setup) {
		r.step("bench-hook", b.hook)
		r.step("bench-lookup", b.lookup)
		r.step("bench-latency", b.latency)
		r.step("bench-delivery", b.delivery)
	}
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, r.passed, r.failed)
	powerOff()
}

type bencher struct {
	cfg benchConfig
	// Connected sender sockets, and sinks bound to the destinations that
	// are never read: a full receive queue drops quietly, with no ICMP.
	other, dns int
	sinks      []int
	dnsQuery   []byte
}

func emit(s proto.BenchSample) {
	os.Stdout.WriteString(s.Format() + "\n")
}

func (b *bencher) setup() error {
	if !exists("/bin/dnsmon-load") || !exists("/dnsmon.ko") || !exists("/bin/dnsmon-watch") {
		return errors.New("/bin/dnsmon-load, /bin/dnsmon-watch or /dnsmon.ko not in the initramfs")
	}
	if err := loUp(); err != nil {
		return err
	}
	for _, port := range []int{benchOtherPort, benchDNSPort} {
		fd, err := udpSocket()
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return fmt.Errorf("binding the sink on port %d: %w", port, err)
		}
		b.sinks = append(b.sinks, fd)
	}
	var err error
	if b.other, err = connectedUDP(benchOtherPort); err != nil {
		return err
	}
	if b.dns, err = connectedUDP(benchDNSPort); err != nil {
		return err
	}
	b.dnsQuery = query(0x4242, "www.bench.dnsmon.test", qtypes["A"])
	// Warm caches and the page allocator before the first timed run.
	if _, err := sendN(b.other, b.dnsQuery, b.cfg.count/10); err != nil {
		return err
	}
	_, err = sendN(b.dns, b.dnsQuery, b.cfg.count/10)
	return err
}

func udpSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("creating a UDP socket: %w", err)
	}
	return fd, nil
}

func connectedUDP(port int) (int, error) {
	fd, err := udpSocket()
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connecting to 127.0.0.1:%d: %w", port, err)
	}
	return fd, nil
}

// sendN sends payload n times on a connected socket, from one OS thread,
// and returns the guest time it took. The sends are raw system calls: the
// Go scheduler's bookkeeping around a blocking call varies from run to run
// and would blur the differences the hook benchmark looks for.
func sendN(fd int, payload []byte, n int) (time.Duration, error) {
	if len(payload) == 0 {
		return 0, errors.New("sendN: empty payload")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, l := uintptr(unsafe.Pointer(&payload[0])), uintptr(len(payload))
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if _, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), p, l); errno != 0 {
			return 0, fmt.Errorf("send %d of %d: %w", i, n, errno)
		}
	}
	d := time.Since(t0)
	runtime.KeepAlive(payload)
	return d, nil
}

// settleTime lets the softirq and RCU work that loading or unloading the
// module and the previous run left behind finish before a timed run, so
// that every run starts from the same state.
const settleTime = 200 * time.Millisecond

// timedSend settles, sends an untimed twentieth of the count to bring the
// path to its steady state, and times count sends.
func (b *bencher) timedSend(fd int) (time.Duration, error) {
	time.Sleep(settleTime)
	if _, err := sendN(fd, b.dnsQuery, max(b.cfg.count/20, 1)); err != nil {
		return 0, err
	}
	return sendN(fd, b.dnsQuery, b.cfg.count)
}

// hookState is how the module is set up for one timed run of hook.
type hookState struct {
	loaded bool
	queued bool     // every event must be queued: none dropped
	params []string // for dnsmon-load
	ports  []int
}

// hookStates are timed in this order in every round:
//   - unloaded;
//   - loaded with its defaults (ports=53, ring_size=4096, log=1) and no
//     reader: after the first 4096 queries the ring is full and each
//     query is only counted as dropped;
//   - loaded with a ring that holds every query of the run, so each one
//     is built into an event and queued, as when a reader keeps up.
var hookStates = []hookState{
	{ports: []int{benchOtherPort, benchDNSPort}},
	{loaded: true, ports: []int{benchOtherPort, benchDNSPort}},
	{loaded: true, queued: true, params: []string{"ring_size=65536"}, ports: []int{benchDNSPort}},
}

// queueCapacity is the ring_size of the queued state.
const queueCapacity = 65536

// hook alternates the hookStates round after round and times the same
// sends to a non-DNS port and to port 53 in each.
func (b *bencher) hook() error {
	if b.cfg.count+b.cfg.count/20 > queueCapacity {
		return fmt.Errorf("dnsmon.bench.count=%d: the queued runs need count + count/20 <= %d", b.cfg.count, queueCapacity)
	}
	for round := 1; round <= b.cfg.rounds; round++ {
		for _, st := range hookStates {
			if err := b.hookRuns(round, st); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bencher) hookRuns(round int, st hookState) error {
	if st.loaded {
		if out, err := tool("dnsmon-load", append([]string{"/dnsmon.ko"}, st.params...)...); err != nil {
			return fmt.Errorf("dnsmon-load: %v: %s", err, out)
		}
	}
	for _, port := range st.ports {
		fd := b.other
		if port == benchDNSPort {
			fd = b.dns
		}
		d, err := b.timedSend(fd)
		if err != nil {
			return err
		}
		emit(proto.BenchSample{Kind: proto.BenchHook, Round: round, Loaded: st.loaded, Queued: st.queued, Port: port, Sent: int64(b.cfg.count), Ns: d.Nanoseconds()})
	}
	if st.queued {
		c, out, err := stats()
		if err != nil {
			return err
		}
		if c["dropped"] != 0 {
			return fmt.Errorf("the queued run dropped %d events; want none:\n%s", c["dropped"], out)
		}
	}
	if st.loaded {
		if out, err := tool("dnsmon-load", "--unload"); err != nil {
			return fmt.Errorf("dnsmon-load --unload: %v: %s", err, out)
		}
	}
	return nil
}

// delivery sends queries at rising rates with dnsmon-watch --json reading,
// and checks that every query was either seen or counted as dropped. It
// stops after two rates in a row lost events.
func (b *bencher) delivery() error {
	lossy := 0
	for _, rate := range b.cfg.rates {
		s, err := b.deliveryAt(rate)
		if err != nil {
			return err
		}
		emit(s)
		if s.Seen+s.Dropped != s.Sent || s.Events != s.Sent || s.WatchDropped != s.Dropped {
			return fmt.Errorf("rate %d: sent %d, seen %d, dropped %d (module events %d, dnsmon-watch reported %d dropped): the counts do not add up",
				rate, s.Sent, s.Seen, s.Dropped, s.Events, s.WatchDropped)
		}
		if s.Dropped > 0 {
			if lossy++; lossy == 2 {
				break
			}
		} else {
			lossy = 0
		}
	}
	return nil
}

func (b *bencher) deliveryAt(rate int) (proto.BenchSample, error) {
	s := proto.BenchSample{Kind: proto.BenchDelivery, Rate: rate}
	if out, err := tool("dnsmon-load", "/dnsmon.ko", "log=0"); err != nil {
		return s, fmt.Errorf("dnsmon-load: %v: %s", err, out)
	}
	defer func() {
		if out, err := tool("dnsmon-load", "--unload"); err != nil {
			fmt.Println("guestinit: unload after delivery:", err, out)
		}
	}()
	if !waitFor("/dev/dnsmon", 3*time.Second) {
		return s, errors.New("/dev/dnsmon did not appear")
	}
	w, err := startCounter()
	if err != nil {
		return s, err
	}
	// dnsmon-watch opens the device before it prints anything; give it
	// time to start reading.
	time.Sleep(300 * time.Millisecond)
	d, err := sendPaced(b.dns, b.dnsQuery, b.cfg.queries, rate)
	if err != nil {
		w.stop()
		return s, err
	}
	s.Sent, s.Ns = int64(b.cfg.queries), d.Nanoseconds()
	w.quiet(time.Second, 60*time.Second)
	s.Seen, s.WatchDropped = w.stop()
	st, out, err := stats()
	if err != nil {
		return s, fmt.Errorf("%w (%s)", err, out)
	}
	s.Events, s.Dropped = st["events"], st["dropped"]
	return s, nil
}

// sendPaced sends n datagrams at rate per second of guest time (0: as fast
// as possible), sleeping between batches of at most a millisecond's worth.
func sendPaced(fd int, payload []byte, n, rate int) (time.Duration, error) {
	if rate <= 0 {
		return sendN(fd, payload, n)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	batch := max(rate/1000, 1)
	gap := time.Second / time.Duration(rate)
	t0 := time.Now()
	for i := 0; i < n; {
		for j := 0; j < batch && i < n; j, i = j+1, i+1 {
			if _, err := unix.Write(fd, payload); err != nil {
				return 0, fmt.Errorf("send %d of %d: %w", i, n, err)
			}
		}
		if wait := time.Duration(i)*gap - time.Since(t0); wait > 0 {
			time.Sleep(wait)
		}
	}
	return time.Since(t0), nil
}

// counter runs dnsmon-watch --json and counts its event lines and the
// drops it reports, without decoding the events.
type counter struct {
	cmd     *exec.Cmd
	done    chan struct{}
	lines   chan struct{}
	seen    int64
	dropped int64
}

func startCounter() (*counter, error) {
	c := &counter{cmd: exec.Command("/bin/dnsmon-watch", "--json"), done: make(chan struct{}), lines: make(chan struct{}, 1)}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.cmd.Stderr = io.Discard
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting dnsmon-watch: %w", err)
	}
	go c.read(out)
	return c, nil
}

var droppedKey = []byte(`"dropped":`)

func (c *counter) read(r io.Reader) {
	defer close(c.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if i := bytes.Index(line, droppedKey); i >= 0 && !bytes.Contains(line, []byte(`"qname"`)) {
			rest := line[i+len(droppedKey):]
			j := bytes.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
			if j < 0 {
				j = len(rest)
			}
			n, _ := strconv.ParseInt(string(rest[:j]), 10, 64)
			c.dropped += n
		} else if bytes.HasPrefix(line, []byte("{")) {
			c.seen++
		}
		select {
		case c.lines <- struct{}{}:
		default:
		}
	}
}

// quiet waits until no line arrived for d, or max passed.
func (c *counter) quiet(d, max time.Duration) {
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		select {
		case <-c.lines:
		case <-c.done:
			return
		case <-time.After(d):
			return
		}
	}
}

// stop interrupts dnsmon-watch, waits for it, and returns the counts.
func (c *counter) stop() (seen, dropped int64) {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = c.cmd.Wait()
	return c.seen, c.dropped
}
