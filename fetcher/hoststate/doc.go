// Package hoststate reads whether the running kernel will insist on a
// signed module and whether it trusts the dnsmon module signing key: Secure
// Boot, lockdown, module.sig_enforce and the keys in /proc/keys. It also
// writes the certificate for Machine Owner Key enrolment; the commands say
// how to enrol it.
package hoststate
