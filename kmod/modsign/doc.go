// Package modsign signs and verifies kernel modules: it makes the module
// signing key pair (an RSA key and a self-signed X.509 certificate fit for
// the kernel's keyrings), appends the signature trailer that the target
// kernel checks (PKCS#7 from 4.3, the older X.509-identifier form for
// 3.10–4.2 and RHEL 7), verifies such trailers in Go, and strips them.
//
// A signed module is the unsigned module followed by the signature data, a
// 12-byte struct module_signature and the magic string
// "~Module signature appended~\n". Sign last: any change to the module
// after signing (strip, objcopy) breaks the signature.
package modsign
