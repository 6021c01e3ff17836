// Command signinit is the init (pid 1) of the module signing guests: it
// loads each /cases/NAME.ko with dnsmon-load and checks the outcome that
// /cases/NAME.want names ("load" or "refuse"), reports what
// fetcher/hoststate reads, prints one verdict line per check and powers off.
//
// /cases/cert.der is the module signing certificate; /cases/db is "yes"
// when the firmware's db holds it (the kernel must then trust the key) and
// "no" otherwise.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/guestsys"
	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "signinit: run me as the guest's init")
		os.Exit(2)
	}
	r := &runner{}
	r.step("boot", setup)
	r.run()
	fmt.Printf("%s {\"passed\":%d,\"failed\":%d}\n", proto.DonePrefix, r.passed, r.failed)
	guestsys.PowerOff()
}

type runner struct{ passed, failed int }

func (r *runner) step(name string, fn func() error) bool {
	t0 := time.Now()
	err := fn()
	v := proto.Verdict{Scenario: name, Status: proto.Pass, Ms: time.Since(t0).Milliseconds()}
	if err != nil {
		v.Status, v.Detail = proto.Fail, err.Error()
		r.failed++
	} else {
		r.passed++
	}
	os.Stdout.WriteString(v.Format() + "\n")
	return err == nil
}

func setup() error {
	if err := guestsys.MountAll(guestsys.Basic[:3]); err != nil {
		return err
	}
	// Optional: their absence is what the host-state checks report.
	for _, m := range []guestsys.Mount{
		{Source: "securityfs", Target: "/sys/kernel/security", Type: "securityfs"},
		{Source: "efivarfs", Target: "/sys/firmware/efi/efivars", Type: "efivarfs"},
	} {
		if err := guestsys.MountAll([]guestsys.Mount{m}); err != nil {
			fmt.Printf("signinit: %v\n", err)
		}
	}
	_ = os.WriteFile("/proc/sys/kernel/printk", []byte("4 4 1 7"), 0o644)
	return guestsys.LoUp()
}

func (r *runner) run() {
	cert, err := readCert()
	if err != nil {
		r.step("cert", func() error { return err })
		return
	}
	wantDB := strings.TrimSpace(readString("/cases/db")) == "yes"
	r.step("db-cert", func() error { return checkDBLog(wantDB) })
	r.step("hoststate", func() error { return checkHostState(cert, wantDB) })
	wants, _ := filepath.Glob("/cases/*.want")
	sort.Strings(wants)
	for _, w := range wants {
		name := strings.TrimSuffix(filepath.Base(w), ".want")
		want := strings.TrimSpace(readString(w))
		r.step(name, func() error { return loadCase(name, want) })
	}
}

func readCert() (*modsign.KeyPair, error) {
	b, err := os.ReadFile("/cases/cert.der")
	if err != nil {
		return nil, err
	}
	c, err := modsign.ParseCertificate(b)
	if err != nil {
		return nil, err
	}
	return &modsign.KeyPair{Cert: c}, nil
}

func readString(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// checkDBLog looks for the kernel's "Loaded X.509 cert 'dnsmon module
// signing key: ...'" line (UEFI:db into the platform keyring).
func checkDBLog(want bool) error {
	log, err := guestsys.KernelLog()
	if err != nil {
		return err
	}
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "X.509") && strings.Contains(l, modsign.DefaultSubject) {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	switch {
	case want && len(lines) == 0:
		return errors.New("the kernel did not load the dnsmon certificate from db")
	case !want && len(lines) > 0:
		return fmt.Errorf("the kernel loaded a dnsmon certificate without db: %q", lines)
	}
	fmt.Printf("signinit: db lines: %q\n", lines)
	return nil
}

func checkHostState(p *modsign.KeyPair, wantDB bool) error {
	s, err := hoststate.Read(os.DirFS("/"), p.Cert)
	fmt.Printf("signinit: hoststate: %v (EFI %v) key %q\n", s, s.EFI, s.Key)
	if err != nil {
		return err
	}
	want := hoststate.No
	if wantDB {
		want = hoststate.Yes
	}
	var bad []string
	if s.SigEnforce != hoststate.Yes {
		bad = append(bad, fmt.Sprintf("sig_enforce %v, want yes", s.SigEnforce))
	}
	if s.EFI != hoststate.Yes {
		bad = append(bad, fmt.Sprintf("EFI %v, want yes", s.EFI))
	}
	if s.KeyTrusted != want {
		bad = append(bad, fmt.Sprintf("key trusted %v, want %v", s.KeyTrusted, want))
	}
	if s.NeedsEnrolment() == wantDB {
		bad = append(bad, fmt.Sprintf("NeedsEnrolment %v", s.NeedsEnrolment()))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func loadCase(name, want string) error {
	ko := "/cases/" + name + ".ko"
	out, err := exec.Command("/bin/dnsmon-load", ko).CombinedOutput()
	text := strings.TrimSpace(string(out))
	fmt.Printf("signinit: %s: dnsmon-load: %v: %s\n", name, err, text)
	_, statErr := os.Stat("/sys/module/dnsmon")
	loaded := statErr == nil
	switch want {
	case "load":
		if err != nil || !loaded {
			return fmt.Errorf("dnsmon-load failed (%v): %s", err, text)
		}
		if strings.Contains(text, "mokutil") {
			return fmt.Errorf("dnsmon-load gave enrolment steps although the kernel trusts the key: %q", text)
		}
		qname := name + ".sb.dnsmon.test"
		if err := query(qname); err != nil {
			return err
		}
		if err := waitLog("dnsmon: DNS Query for "+qname+" from PID ", 5*time.Second); err != nil {
			return err
		}
		if out, err := exec.Command("/bin/dnsmon-load", "--unload").CombinedOutput(); err != nil {
			return fmt.Errorf("unload: %v: %s", err, out)
		}
		return nil
	case "refuse", "refuse-enrol":
		if err == nil || loaded {
			return fmt.Errorf("the module loaded (loaded %v, output %q)", loaded, text)
		}
		if !strings.Contains(text, "needs a signed module") {
			return fmt.Errorf("refused without dnsmon-load's signature sentence: %q", text)
		}
		// dnsmon-load's check before finit_module: the key of the
		// certificate dnsmon-fetch writes is not in /proc/keys.
		if want == "refuse-enrol" && (!strings.Contains(text, "do not show the dnsmon key") ||
			!strings.Contains(text, "mokutil --import "+hoststate.DefaultCertPath)) {
			return fmt.Errorf("refused without the enrolment steps for %s: %q", hoststate.DefaultCertPath, text)
		}
		return nil
	}
	return fmt.Errorf("unknown expectation %q", want)
}

// query sends one A query to 127.0.0.1:53; nothing needs to answer, the
// module sees it on the way out.
func query(name string) error {
	msg := []byte{0x5b, 0x5b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		msg = append(msg, byte(len(l)))
		msg = append(msg, l...)
	}
	msg = append(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, 1) // A
	msg = binary.BigEndian.AppendUint16(msg, 1) // IN
	c, err := net.Dial("udp4", "127.0.0.1:53")
	if err != nil {
		return fmt.Errorf("dialing 127.0.0.1:53: %w", err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("sending the query: %w", err)
	}
	return nil
}

func waitLog(want string, d time.Duration) error {
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		log, err := guestsys.KernelLog()
		if err != nil {
			return err
		}
		if strings.Contains(log, want) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("no %q in the kernel log after %v", want, d)
		}
	}
}
