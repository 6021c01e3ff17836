package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/kmod"
)

// The demo's inputs in the initramfs.
const (
	demoBundle = "/bundle.tar.zst"
	demoKey    = "/dnsmon.pub"
)

// demoWatchTimeout bounds dnsmon-watch in the demo.
const demoWatchTimeout = 30 * time.Second

// bootParam reports whether the kernel command line holds param (a whole
// word such as "dnsmon.mode=demo").
func bootParam(param string) bool {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if f == param {
			return true
		}
	}
	return false
}

// bootValue returns the value of the kernel command line's name=value
// parameter.
func bootValue(name string) (string, bool) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return "", false
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// demoRunner runs the demo: what a customer host does with the product,
// printed as demo lines, with a verdict per step.
type demoRunner struct {
	runner
	release string
	mu      sync.Mutex // serialises console lines
}

// runDemo is pid 1 in demo mode (proto.DemoMode on the command line): it
// fetches the module for this kernel from the bundle, loads it, watches a
// few queries from distinct programs, prints the done line and powers off.
func runDemo() {
	d := &demoRunner{runner: runner{clients: map[string]bool{}}, release: kernelRelease()}
	d.run()
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, d.passed, d.failed)
	powerOff()
}

func (d *demoRunner) line(kind, text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// One write per line so that kernel output does not split it.
	os.Stdout.WriteString(proto.DemoLine{Kind: kind, Text: text}.Format() + "\n")
}

func (d *demoRunner) run() {
	var err error
	d.initNetns, err = netnsInode()
	if !d.step("setup", func() error { return d.setup(err) }) {
		return
	}
	t0 := time.Now()
	detail, err := d.fetch()
	if !d.verdict("fetch", t0, detail, err) {
		return
	}
	if !d.step("load", d.load) {
		return
	}
	d.watchAndQuery()
	d.step("klog-line", d.dmesgLines)
	d.step("dmesg-clean", d.dmesgClean)
}

// setup describes the guest, brings lo up and starts the DNS responder.
func (d *demoRunner) setup(nsErr error) error {
	if nsErr != nil {
		return nsErr
	}
	var found []string
	for _, dir := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		for _, tool := range []string{"gcc", "cc", "make", "ld", "insmod", "modprobe"} {
			if exists(filepath.Join(dir, tool)) {
				found = append(found, filepath.Join(dir, tool))
			}
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("the demo guest must have no compiler or kmod tools, found %s", strings.Join(found, " "))
	}
	ifaces, err := os.ReadDir("/sys/class/net")
	if err != nil {
		return fmt.Errorf("listing network interfaces: %w", err)
	}
	var names []string
	for _, e := range ifaces {
		names = append(names, e.Name())
	}
	d.line(proto.DemoSay, fmt.Sprintf("guest: Linux %s under qemu; no gcc, cc, ld, make, insmod or modprobe; network interfaces: %s",
		d.release, strings.Join(names, " ")))
	if err := writePasswd(proto.DemoQueries()); err != nil {
		return err
	}
	if err := loUp(); err != nil {
		return err
	}
	if err := startResponder(53); err != nil {
		return err
	}
	d.line(proto.DemoSay, "a DNS responder answers on 127.0.0.1:53 and [::1]:53, UDP and TCP")
	return nil
}

// writePasswd writes /etc/passwd naming the queries' users, so that
// dnsmon-watch can show names.
func writePasswd(qs []proto.DemoQuery) error {
	seen := map[int]bool{}
	var b strings.Builder
	for _, q := range qs {
		if !seen[q.UID] {
			seen[q.UID] = true
			fmt.Fprintf(&b, "%s:x:%d:%d::/:/bin/false\n", q.User, q.UID, q.UID)
		}
	}
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	return os.WriteFile("/etc/passwd", []byte(b.String()), 0o644)
}

// command runs one of our binaries, showing the command and its output,
// and returns the output.
func (d *demoRunner) command(name string, args ...string) (string, error) {
	d.line(proto.DemoCmd, strings.Join(append([]string{name}, args...), " "))
	out, err := tool(name, args...)
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			d.line(proto.DemoOut, l)
		}
	}
	if err != nil {
		return out, fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return out, nil
}

// fetchRecord is the part of dnsmon-fetch's record (FILE.json) the demo
// checks.
type fetchRecord struct {
	Path     string `json:"path"`
	Kernel   string `json:"kernel"`
	Signer   string `json:"signer,omitempty"`
	Verified bool   `json:"signature_verified"`
	KoDigest string `json:"ko_digest"`
	Version  string `json:"version"`
	// ModuleSigned and SigningCert: the module's own signature, checked
	// against the certificate published with it.
	ModuleSigned bool   `json:"module_signed"`
	SigningCert  string `json:"signing_cert,omitempty"`
}

// fetch runs dnsmon-fetch with no --kernel, so it must pick this kernel's
// module, and checks what it wrote. The verdict's detail is the record, for
// the host to check the signer.
func (d *demoRunner) fetch() (string, error) {
	var rec fetchRecord
	for _, p := range []string{demoBundle, demoKey} {
		if !exists(p) {
			return "", fmt.Errorf("%s is not in the initramfs", p)
		}
	}
	if exists(kmod.DefaultPath(d.release)) {
		return "", fmt.Errorf("%s exists before dnsmon-fetch ran", kmod.DefaultPath(d.release))
	}
	if _, err := d.command("dnsmon-fetch", "--from", demoBundle, "--key", demoKey); err != nil {
		return "", err
	}
	ko := kmod.DefaultPath(d.release)
	b, err := os.ReadFile(ko + ".json")
	if err != nil {
		return "", fmt.Errorf("dnsmon-fetch succeeded but wrote no record: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return "", fmt.Errorf("reading %s.json: %w", ko, err)
	}
	data, err := os.ReadFile(ko)
	if err != nil {
		return "", fmt.Errorf("dnsmon-fetch succeeded but wrote no module: %w", err)
	}
	sum := sha256.Sum256(data)
	var bad []string
	if rec.Kernel != d.release {
		bad = append(bad, fmt.Sprintf("record kernel %q, guest runs %q", rec.Kernel, d.release))
	}
	if !rec.Verified || rec.Signer == "" {
		bad = append(bad, "signature not verified")
	}
	if got := "sha256:" + hex.EncodeToString(sum[:]); rec.KoDigest != got {
		bad = append(bad, fmt.Sprintf("module hashes to %s, the record says %s", got, rec.KoDigest))
	}
	if len(bad) > 0 {
		return "", errors.New(strings.Join(bad, "; "))
	}
	detail, _ := json.Marshal(rec) // a struct of strings and a bool always marshals
	return string(detail), nil
}

// verdict prints a step's verdict line; detail goes with a pass too.
func (d *demoRunner) verdict(name string, t0 time.Time, detail string, err error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		return d.runner.report(name, t0, err)
	}
	v := proto.Verdict{Scenario: name, Status: proto.Pass, Detail: detail, Ms: time.Since(t0).Milliseconds()}
	d.passed++
	os.Stdout.WriteString(v.Format() + "\n")
	return true
}

// step runs one step and prints its verdict.
func (d *demoRunner) step(name string, fn func() error) bool {
	t0 := time.Now()
	return d.verdict(name, t0, "", fn())
}

// load runs dnsmon-load with no arguments: it loads what dnsmon-fetch
// wrote, and knows it for the module dnsmon-fetch verified.
func (d *demoRunner) load() error {
	out, err := d.command("dnsmon-load")
	if err != nil {
		return err
	}
	if strings.Contains(out, "NOT VERIFIED") {
		return fmt.Errorf("dnsmon-load did not know the module dnsmon-fetch wrote for verified: %s", out)
	}
	if !exists("/sys/module/dnsmon") {
		return errors.New("dnsmon-load succeeded but /sys/module/dnsmon is missing")
	}
	if !waitFor("/dev/dnsmon", 3*time.Second) {
		return errors.New("module loaded but /dev/dnsmon did not appear")
	}
	v, _ := os.ReadFile("/sys/module/dnsmon/version")
	d.line(proto.DemoSay, fmt.Sprintf("module dnsmon %s loaded; /dev/dnsmon is there", strings.TrimSpace(string(v))))
	return nil
}

// sentQuery is a query a client made.
type sentQuery struct {
	q   proto.DemoQuery
	rep clientReport
}

// watchAndQuery starts dnsmon-watch for as many events as there are
// queries, makes the queries, and checks the watch lines.
func (d *demoRunner) watchAndQuery() {
	t0 := time.Now()
	qs := proto.DemoQueries()
	args := []string{"--count", strconv.Itoa(len(qs)), "--timeout", demoWatchTimeout.String()}
	d.line(proto.DemoCmd, "dnsmon-watch "+strings.Join(args, " ")+" &")
	cmd := exec.Command("/bin/dnsmon-watch", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		d.verdict("watch", t0, "", err)
		return
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		d.verdict("watch", t0, "", fmt.Errorf("starting dnsmon-watch: %w", err))
		return
	}
	var lines []string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.line(proto.DemoWatch, sc.Text())
			lines = append(lines, sc.Text())
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	var sent []sentQuery
	for _, q := range qs {
		t1 := time.Now()
		rep, err := d.demoQuery(q)
		if d.verdict("query/"+q.Comm, t1, "", err) {
			sent = append(sent, sentQuery{q, rep})
		}
	}
	<-readDone
	werr := cmd.Wait()
	err = func() error {
		if werr != nil {
			return fmt.Errorf("dnsmon-watch: %v: %s", werr, strings.TrimSpace(stderr.String()))
		}
		if len(sent) != len(qs) {
			return fmt.Errorf("only %d of %d queries were sent", len(sent), len(qs))
		}
		var bad []string
		for _, s := range sent {
			if err := matchWatchLine(lines, s); err != nil {
				bad = append(bad, err.Error())
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s (dnsmon-watch stderr: %q)", strings.Join(bad, "; "), strings.TrimSpace(stderr.String()))
		}
		return nil
	}()
	d.verdict("events-seen", t0, "", err)
}

// demoQuery makes one query from a program named q.Comm.
func (d *demoRunner) demoQuery(q proto.DemoQuery) (clientReport, error) {
	who := fmt.Sprintf("user %s", q.User)
	args := []string{"-net", q.Net, "-addr", q.Server, "-name", q.Name, "-type", q.Type}
	if q.NewNetns {
		who += ", in a new network namespace"
		args = append(args, "-lo-up", "-wait", "0")
	}
	d.line(proto.DemoSay, fmt.Sprintf("%s (%s) asks %s %s over %s to %s", q.Comm, who, q.Type, q.Name, q.Net, q.Server))
	rep, err := d.client(q.Comm, q.UID, q.NewNetns, args...)
	if err != nil {
		return rep, err
	}
	switch {
	case q.NewNetns && rep.Netns == d.initNetns:
		return rep, fmt.Errorf("client's netns %d is init's: CLONE_NEWNET did not take", rep.Netns)
	case !q.NewNetns && rep.Replies != 1:
		return rep, fmt.Errorf("%s %s: no reply from the responder", q.Net, q.Server)
	}
	return rep, nil
}

// matchWatchLine finds the readable line of a sent query: its program,
// process, user, namespace, transport and question.
func matchWatchLine(lines []string, s sentQuery) error {
	q := s.q
	want := []string{
		"pid=" + strconv.Itoa(s.rep.Pid),
		"comm=" + q.Comm,
		"user=" + q.User,
		"netns=" + strconv.FormatUint(s.rep.Netns, 10),
		q.Proto(),
		q.Server,
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " "+q.Type+" "+q.Name) {
			continue
		}
		fields := strings.Fields(l)
		ok := true
		for _, w := range want {
			if !slices.Contains(fields, w) {
				ok = false
			}
		}
		if ok {
			return nil
		}
		return fmt.Errorf("the line for %s %s is %q, want fields %q", q.Type, q.Name, l, want)
	}
	return fmt.Errorf("dnsmon-watch printed no line for %s %s from %s", q.Type, q.Name, q.Comm)
}

// dmesgLines shows the module's kernel log lines for the demo's names.
func (d *demoRunner) dmesgLines() error {
	log, err := kernelLog()
	if err != nil {
		return err
	}
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "dnsmon: DNS Query for") {
			// Drop the syslog level, "<6>", as dmesg does.
			if i := strings.Index(l, ">"); strings.HasPrefix(l, "<") && i > 0 {
				l = l[i+1:]
			}
			d.line(proto.DemoDmesg, strings.TrimSpace(l))
			n++
		}
	}
	if n == 0 {
		return errors.New(`no "dnsmon: DNS Query for" line in the kernel log`)
	}
	return nil
}
