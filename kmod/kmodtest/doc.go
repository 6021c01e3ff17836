// Package kmodtest holds test helpers for the module's formats, shared by
// the tests of the farm that publishes modules and of the hosts that fetch
// them: fake kernel module files, written byte by byte (KO) or compiled
// with gcc from a stand-in module's C source (CompileModule), and a real
// registry server (Debian's docker-registry) on 127.0.0.1.
package kmodtest
