package loader

import (
	"bufio"
	"bytes"
	"io/fs"
	"strconv"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
)

// Paths read to explain a refusal, relative to the root file system given
// with WithFS.
const (
	modulesDisabledPath = "proc/sys/kernel/modules_disabled"
	selfStatusPath      = "proc/self/status"
)

// capSysModule is CAP_SYS_MODULE's bit in the capability sets.
const capSysModule = 16

// system answers the questions that turn an errno into a sentence. Each
// answer is "don't know" when the file is missing or unreadable.
type system struct{ fsys fs.FS }

// read returns a small file's contents, or nil.
func (s system) read(name string) []byte {
	b, err := fs.ReadFile(s.fsys, name)
	if err != nil || len(b) > 1<<16 {
		return nil
	}
	return b
}

// modulesDisabled reports kernel.modules_disabled=1.
func (s system) modulesDisabled() bool {
	return strings.TrimSpace(string(s.read(modulesDisabledPath))) == "1"
}

// signing returns what the host says about module signatures (Secure
// Boot, lockdown, sig_enforce); a malformed file leaves its answer unknown.
func (s system) signing() hoststate.State {
	st, _ := hoststate.Read(s.fsys, nil)
	return st
}

// lockdown returns the active lockdown mode ("integrity",
// "confidentiality") or "" when lockdown is off or unknown.
func (s system) lockdown() string {
	if mode := s.signing().Lockdown; mode != "none" {
		return mode
	}
	return ""
}

// secureBoot reports whether the firmware says Secure Boot is on.
func (s system) secureBoot() bool {
	return s.signing().SecureBoot == hoststate.Yes
}

// canLoad reports whether this process has CAP_SYS_MODULE, and whether it
// could tell.
func (s system) canLoad() (capable, known bool) {
	sc := bufio.NewScanner(bytes.NewReader(s.read(selfStatusPath)))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return false, false
		}
		return caps&(1<<capSysModule) != 0, true
	}
	return false, false
}

// refcnt returns /sys/module/NAME/refcnt, or -1.
func (s system) refcnt(name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(string(s.read("sys/module/" + name + "/refcnt"))))
	if err != nil {
		return -1
	}
	return n
}
