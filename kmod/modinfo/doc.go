// Package modinfo reads what a kernel module file says about itself: the
// key=value pairs of its .modinfo ELF section (name, version, vermagic,
// parameters, ...), the vermagic string, whether a signature is appended,
// the user-space decompression of .ko.zst, .ko.xz and .ko.gz files, and
// what a kernel release that names a modules directory may be.
//
// Every length read from a file is bounded, and the errors that callers
// branch on are sentinels (ErrNotELF, ErrNoModinfo, ErrTooLarge) or typed
// (*MismatchError, *TooLargeError, *ReleaseError).
package modinfo
