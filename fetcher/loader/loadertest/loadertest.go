package loadertest

import (
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/dnsmon/dnsmon/fetcher/loader"
)

// Call is one recorded syscall.
type Call struct {
	Op     string // "finit_module" or "delete_module"
	Module []byte // finit_module: the bytes of the file behind fd
	Params string // finit_module: the parameter string
	Name   string // delete_module: the module name
	Flags  int
}

// Syscalls records calls and answers them with FinitErr and DeleteErr
// (nil: success). Safe for concurrent use.
type Syscalls struct {
	FinitErr  syscall.Errno
	DeleteErr syscall.Errno

	mu    sync.Mutex
	calls []Call
}

var _ loader.Syscalls = (*Syscalls)(nil)

// FinitModule records the module's bytes (read through fd without moving
// its offset), params and flags.
func (k *Syscalls) FinitModule(fd int, params string, flags int) error {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return fmt.Errorf("fake finit_module: dup: %w", err)
	}
	f := os.NewFile(uintptr(dup), "module")
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fake finit_module: %w", err)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return fmt.Errorf("fake finit_module: %w", err)
	}
	k.record(Call{Op: "finit_module", Module: data, Params: params, Flags: flags})
	if k.FinitErr != 0 {
		return k.FinitErr
	}
	return nil
}

// DeleteModule records name and flags.
func (k *Syscalls) DeleteModule(name string, flags int) error {
	k.record(Call{Op: "delete_module", Name: name, Flags: flags})
	if k.DeleteErr != 0 {
		return k.DeleteErr
	}
	return nil
}

func (k *Syscalls) record(c Call) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, c)
}

// Calls returns the calls so far.
func (k *Syscalls) Calls() []Call {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Call(nil), k.calls...)
}
