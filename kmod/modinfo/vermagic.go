package modinfo

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoVermagic means a module has no vermagic= entry, so no kernel will
// load it.
var ErrNoVermagic = errors.New("module has no vermagic")

// Vermagic is a parsed vermagic string (include/linux/vermagic.h):
// UTS_RELEASE, then space-separated flags such as "SMP", "preempt",
// "preempt_rt", "mod_unload", "modversions" and arch or randstruct words.
type Vermagic struct {
	Release     string   // the kernel release the module was built for (uname -r)
	SMP         bool     // "SMP"
	Preempt     bool     // "preempt" (CONFIG_PREEMPT)
	PreemptRT   bool     // "preempt_rt" (CONFIG_PREEMPT_RT)
	ModUnload   bool     // "mod_unload" (CONFIG_MODULE_UNLOAD)
	ModVersions bool     // "modversions" (CONFIG_MODVERSIONS)
	Flags       []string // every word after the release, in order
}

// ParseVermagic parses a vermagic string such as
// "6.1.0-56-amd64 SMP preempt mod_unload modversions ".
func ParseVermagic(s string) (Vermagic, error) {
	words := strings.Fields(s)
	if len(words) == 0 {
		return Vermagic{}, ErrNoVermagic
	}
	v := Vermagic{Release: words[0], Flags: words[1:]}
	for _, w := range v.Flags {
		switch w {
		case "SMP":
			v.SMP = true
		case "preempt", "PREEMPT":
			v.Preempt = true
		case "preempt_rt", "PREEMPT_RT":
			v.PreemptRT = true
		case "mod_unload":
			v.ModUnload = true
		case "modversions":
			v.ModVersions = true
		}
	}
	return v, nil
}

// String returns the release and flags separated by single spaces.
func (v Vermagic) String() string {
	return strings.Join(append([]string{v.Release}, v.Flags...), " ")
}

// MismatchError says a module was built for another kernel release than
// the running one.
type MismatchError struct {
	ModuleRelease  string // release in the module's vermagic
	RunningRelease string // uname -r
	Vermagic       string // the module's whole vermagic
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("module built for kernel %s (vermagic %q), but the running kernel is %s",
		e.ModuleRelease, strings.TrimSpace(e.Vermagic), e.RunningRelease)
}

// CheckRelease returns a *MismatchError when the release in vermagic is not
// running (the output of uname -r), and ErrNoVermagic when vermagic is empty.
func CheckRelease(vermagic, running string) error {
	v, err := ParseVermagic(vermagic)
	if err != nil {
		return err
	}
	if v.Release != running {
		return &MismatchError{ModuleRelease: v.Release, RunningRelease: running, Vermagic: vermagic}
	}
	return nil
}

// SignatureMagic ends a module with an appended signature
// (scripts/sign-file, every kernel from 3.7 on).
const SignatureMagic = "~Module signature appended~\n"

// Signed reports whether the size bytes of r end with SignatureMagic.
func Signed(r io.ReaderAt, size int64) (bool, error) {
	n := int64(len(SignatureMagic))
	if size < n {
		return false, nil
	}
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil {
		return false, fmt.Errorf("reading module tail: %w", err)
	}
	return string(tail) == SignatureMagic, nil
}
