package loader

import (
	"errors"
	"fmt"
	"syscall"
)

// The kinds of failure an *Error carries; match them with errors.Is.
var (
	ErrNoFile          = errors.New("module file missing")
	ErrNotModule       = errors.New("not a kernel module")
	ErrWrongKernel     = errors.New("built for another kernel")
	ErrAlreadyLoaded   = errors.New("already loaded")
	ErrNeedsSignature  = errors.New("needs a signed module")
	ErrModulesDisabled = errors.New("module loading disabled")
	ErrNotRoot         = errors.New("not root")
	ErrPermission      = errors.New("permission denied")
	ErrBusy            = errors.New("being loaded or unloaded")
	ErrUnknownSymbol   = errors.New("unknown symbol")
	ErrBadParam        = errors.New("bad parameter")
	ErrFileBusy        = errors.New("module file open for writing")
	ErrNotLoaded       = errors.New("not loaded")
	ErrInUse           = errors.New("in use")
	ErrUnsupported     = errors.New("unsupported by this kernel")
	ErrFailed          = errors.New("failed")
)

// Error is a refused load or unload.
type Error struct {
	Op      string        // "loading" or "unloading"
	Target  string        // the module file (loading) or name (unloading)
	Release string        // loading: the kernel release the module must be built for
	Kind    error         // one of the Err* kinds above
	Errno   syscall.Errno // the syscall's errno; 0 when refused before the call
	Users   int           // ErrInUse: the module's reference count; 0 when unknown
	Reason  string        // what happened and, where nothing but the host can help, what to do
	Err     error         // the underlying cause, if any (e.g. *modinfo.MismatchError)
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Op, e.Target, e.Reason)
}

// Unwrap returns the kind, the errno and the cause, for errors.Is and
// errors.As.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Errno != 0 {
		errs = append(errs, e.Errno)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// mokHint is how to get a module accepted under Secure Boot.
const mokHint = "sign dnsmon.ko with a key the kernel trusts: enroll your signing certificate as a Machine Owner Key " +
	"(mokutil --import signing_key.der, reboot, confirm it in MokManager), sign the module with it " +
	"(scripts/sign-file sha256 signing_key.priv signing_key.der dnsmon.ko), and load it again"
