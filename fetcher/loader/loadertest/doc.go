// Package loadertest provides a fake loader.Syscalls that records the module
// syscalls instead of making them, for tests that must not load modules.
package loadertest
