// Package modinfo reads what a kernel module file says about itself: the
// key=value pairs of its .modinfo ELF section (name, version, vermagic,
// parameters, ...), the vermagic string, whether a signature is appended,
// and the user-space decompression of .ko.zst, .ko.xz and .ko.gz files.
//
// Every length read from a file is bounded, and the errors that callers
// branch on are sentinels (ErrNotELF, ErrNoModinfo, ErrTooLarge) or typed
// (*MismatchError, *TooLargeError).
package modinfo
