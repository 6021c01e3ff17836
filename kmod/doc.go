// Package kmod holds the dnsmon kernel module's source, embedded so that the
// farm can copy it into build containers, and the module's version.
//
// The Go side of a kernel module file lives in its subpackages: modinfo
// (reading .modinfo and vermagic from the ELF), event (decoding the records
// of /dev/dnsmon) and loader (finit_module and delete_module).
package kmod
