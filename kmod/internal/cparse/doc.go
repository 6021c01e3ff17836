// Package cparse runs the kernel module's DNS parser (kmod/src/dns_parse.c)
// in user space, built with AddressSanitizer and UndefinedBehaviorSanitizer,
// so that its tests can check it against golang.org/x/net/dns/dnsmessage.
//
// It exists for those tests only and needs cgo; with CGO_ENABLED=0 the
// package is empty.  dns_parse.h and dns_parse_src.h here are symbolic links
// to the module's parser, so that the go command's build cache, which hashes
// only a package's own files, rebuilds the package when the parser changes.
package cparse
