// Package loader loads and unloads the dnsmon kernel module with
// finit_module(2) and delete_module(2), without insmod or the kmod package.
//
// Before the syscall it reads the module's .modinfo, refuses a module built
// for another kernel release, checks the parameters, and decompresses a
// .ko.zst/.ko.xz/.ko.gz file into a sealed memfd. Every refusal becomes an
// *Error whose message says what happened; callers branch on its Kind with
// errors.Is (ErrAlreadyLoaded, ErrNeedsSignature, ...) and add the advice
// that names their own commands, which this package does not know.
//
// The syscalls sit behind the Syscalls interface so tests run without root;
// package loadertest has a fake that records calls.
package loader
