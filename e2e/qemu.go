package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
)

// Verdict is the result of one scenario inside a guest.
type Verdict = proto.Verdict

// Verdict statuses.
const (
	Pass = proto.Pass
	Fail = proto.Fail
	Skip = proto.Skip
)

// Boot describes one guest run.
type Boot struct {
	Kernel string // path of the vmlinuz
	Initrd string // path of the initramfs
	// Append is added to the kernel command line after
	// "console=CONSOLE panic=-1 loglevel=4".
	Append string
	// Arch is the guest's architecture, GOARCH spelling: amd64 (default)
	// or arm64 (see machines).
	Arch string
	// MemoryMB defaults to 1024.
	MemoryMB int
	// CPUs defaults to 1; more boot the guest SMP, its vCPUs taking turns
	// on one host thread (see Run).
	CPUs int
	// Timeout bounds the whole run; default 2 minutes.
	Timeout time.Duration
	// LogPath receives the full serial console output; make it with
	// NewLogPath.
	LogPath string
	// Qemu is the emulator binary; default Arch's (machines).
	Qemu string
	// Args are extra emulator arguments (e.g. -machine q35 and OVMF's
	// -drive if=pflash pair), added before -kernel.
	Args []string
}

// machine is how a guest of one architecture boots: its emulator, the
// machine arguments and its serial console.
type machine struct {
	qemu    string
	args    []string
	console string
}

// machines are the architectures a guest can be, GOARCH spelling. An arm64
// guest is QEMU's generic virt board with a Cortex-A57: the simplest CPU
// Debian's arm64 kernels boot on, and the quickest under TCG.
var machines = map[string]machine{
	"amd64": {qemu: "qemu-system-x86_64", console: "ttyS0"},
	"arm64": {qemu: "qemu-system-aarch64", args: []string{"-machine", "virt", "-cpu", "cortex-a57"}, console: "ttyAMA0"},
}

// Result is what a guest reported.
type Result struct {
	Verdicts []Verdict
	Done     bool          // the init printed its done line
	Elapsed  time.Duration // wall time of the qemu process
	LogPath  string
}

// NewLogPath creates an empty console log in dir for a guest run called
// name and returns its path, NAME-YYYYMMDD-HHMMSS-RANDOM.log. The file is
// made with O_EXCL, so no other test, nor another run sharing the cache
// directory, is ever handed the same log: with second-resolution names
// alone, two runs of one test on one kernel in the same second shared a
// file, and the first to pass removed the other's log before it was read.
func NewLogPath(dir, name string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating console log directory: %w", err)
	}
	f, err := os.CreateTemp(dir, name+"-"+time.Now().Format("20060102-150405")+"-*.log")
	if err != nil {
		return "", fmt.Errorf("creating console log: %w", err)
	}
	return f.Name(), f.Close()
}

// ErrIncomplete is returned when the guest stopped (or timed out) before
// its init reported done.
var ErrIncomplete = errors.New("guest did not finish its scenarios")

// Run boots a guest with qemu under TCG, with no network device, and
// collects the verdict lines from its serial console until the guest powers
// off or the timeout hits. The console is always written to LogPath.
func Run(ctx context.Context, b Boot) (Result, error) {
	if b.MemoryMB == 0 {
		b.MemoryMB = 1024
	}
	if b.CPUs == 0 {
		b.CPUs = 1
	}
	if b.Timeout == 0 {
		b.Timeout = 2 * time.Minute
	}
	if b.Arch == "" {
		b.Arch = "amd64"
	}
	m, ok := machines[b.Arch]
	if !ok {
		return Result{}, fmt.Errorf("booting a guest: no machine for architecture %q (known: amd64, arm64)", b.Arch)
	}
	if b.Qemu == "" {
		b.Qemu = m.qemu
	}
	if b.LogPath == "" {
		return Result{}, errors.New("booting a guest: no console log path")
	}
	if err := os.MkdirAll(filepath.Dir(b.LogPath), 0o755); err != nil {
		return Result{}, err
	}
	logf, err := os.Create(b.LogPath)
	if err != nil {
		return Result{}, fmt.Errorf("creating console log: %w", err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	// Several vCPUs run round-robin on one thread, not one thread each:
	// with a thread each, QEMU (7.2) lets a vCPU execute the int3 that
	// the kernel's live patching (static keys, alternatives) placed after
	// the patching has finished, and 6.12 to 7.3 die with "Oops: int3" in
	// a run out of a few, at boot or wherever a key flips.  Round-robin
	// still switches vCPUs at arbitrary points of the guest's code, which
	// is what the races under test need.
	accel := "tcg"
	if b.CPUs > 1 {
		accel = "tcg,thread=single"
	}
	args := []string{
		"-accel", accel, "-m", fmt.Sprint(b.MemoryMB), "-smp", fmt.Sprint(b.CPUs),
		"-nographic", "-monitor", "none", "-serial", "stdio",
		"-no-reboot", "-nic", "none",
	}
	args = append(args, m.args...)
	args = append(args, b.Args...)
	args = append(args,
		"-kernel", b.Kernel, "-initrd", b.Initrd,
		"-append", strings.TrimSpace("console="+m.console+" panic=-1 loglevel=4 "+b.Append),
	)
	cmd := exec.CommandContext(ctx, b.Qemu, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, err
	}
	cmd.Stderr = cmd.Stdout
	res := Result{LogPath: b.LogPath}
	fmt.Fprintf(logf, "# %s %s\n", b.Qemu, strings.Join(args, " "))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting %s: %w", b.Qemu, err)
	}
	sc := bufio.NewScanner(io.TeeReader(out, logf))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := proto.ParseLine(line); ok {
			res.Verdicts = append(res.Verdicts, v)
		} else if proto.IsDone(line) {
			res.Done = true
		}
	}
	werr := cmd.Wait()
	res.Elapsed = time.Since(start)
	fmt.Fprintf(logf, "\n# qemu exited after %v: %v\n", res.Elapsed, werr)
	if ctx.Err() != nil {
		return res, fmt.Errorf("guest %s: %w: timed out after %v (console log %s)", filepath.Base(b.Kernel), ErrIncomplete, b.Timeout, b.LogPath)
	}
	if !res.Done {
		return res, fmt.Errorf("guest %s: %w: qemu exited (%v) (console log %s)", filepath.Base(b.Kernel), ErrIncomplete, werr, b.LogPath)
	}
	return res, nil
}
