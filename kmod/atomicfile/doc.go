// Package atomicfile replaces files so that a reader sees the old content or
// the new one, never a mix, even across a crash: temporary file in the
// destination directory, write, fsync, rename, fsync the directory. The farm
// and the host write every file they keep through it.
package atomicfile
