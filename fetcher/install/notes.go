package install

import (
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/kmod"
)

// Note is something the operator should know about what ModuleAndBoot,
// Module or Uninstall did beyond the files they changed: a fact, which the
// command words and advises on.
type Note struct {
	Kind NoteKind
	// Kernel is the release whose module index the note is about
	// (NoDepmod, RanDepmod).
	Kernel string
	// Command is the command line that ran (RanDepmod).
	Command []string
}

// NoteKind says what a Note is about.
type NoteKind int

// The kinds of Note.
const (
	// NoFetchBinary: ModuleAndBoot got no WithFetchBinary, so the kernel
	// post-install hook runs FetchPath, which is not installed.
	NoFetchBinary NoteKind = iota + 1
	// NoDepmod: there is no depmod, so the module index of Kernel was not
	// refreshed: modprobe cannot find the module until it is, but the
	// systemd unit loads the module without modprobe.
	NoDepmod
	// RanDepmod: Command refreshed the module index of Kernel.
	RanDepmod
)

// String states the note's facts.
func (n Note) String() string {
	switch n.Kind {
	case NoFetchBinary:
		return "the kernel post-install hook runs " + FetchPath + ", which is not installed"
	case NoDepmod:
		return fmt.Sprintf("depmod not found: modprobe cannot find %s for kernel %s until `depmod -a %s` runs; the systemd unit %s loads it without modprobe",
			kmod.Name, n.Kernel, n.Kernel, UnitPath)
	case RanDepmod:
		return "ran " + strings.Join(n.Command, " ")
	}
	return fmt.Sprintf("note of kind %d", int(n.Kind))
}
