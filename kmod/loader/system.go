package loader

import (
	"bufio"
	"bytes"
	"io/fs"
	"strconv"
	"strings"
)

// Paths read to explain a refusal, relative to the root file system given
// with WithFS.
const (
	modulesDisabledPath = "proc/sys/kernel/modules_disabled"
	lockdownPath        = "sys/kernel/security/lockdown"
	selfStatusPath      = "proc/self/status"
	secureBootPath      = "sys/firmware/efi/efivars/SecureBoot-8be5aa52-0bb2-4b3e-a9f5-5d11c8c1c0de"
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

// lockdown returns the active lockdown mode ("integrity",
// "confidentiality") or "" when lockdown is off or unknown.
func (s system) lockdown() string {
	b := s.read(lockdownPath)
	i, j := bytes.IndexByte(b, '['), bytes.IndexByte(b, ']')
	if i < 0 || j < i {
		return ""
	}
	if mode := string(b[i+1 : j]); mode != "none" {
		return mode
	}
	return ""
}

// secureBoot reports whether the firmware says Secure Boot is on (the last
// byte of the EFI variable; the first four are its attributes).
func (s system) secureBoot() bool {
	b := s.read(secureBootPath)
	return len(b) == 5 && b[4] == 1
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
