// Package hoststatetest holds the fixtures of the tests that read a host's
// module signature state: views of the root file system of hosts with and
// without Secure Boot, lockdown, sig_enforce and the dnsmon key in
// /proc/keys, and the module signing certificate whose key they trust or
// not (testdata/README.md says how each was made).
package hoststatetest

import (
	"crypto/x509"
	"embed"
	"io/fs"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/modsign"
)

//go:embed testdata
var fixtures embed.FS

// Host returns the view of / of the host called name: bios-plain,
// efi-nokeys, secureboot-untrusted, secureboot-trusted, sigenforce-otherkey
// or malformed.
func Host(t testing.TB, name string) fs.FS {
	t.Helper()
	dir := "testdata/" + name
	if fi, err := fs.Stat(fixtures, dir); err != nil || !fi.IsDir() || name == "" {
		t.Fatalf("no host fixture %q", name)
	}
	sub, err := fs.Sub(fixtures, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// Cert returns the module signing certificate of the fixtures: the key
// secureboot-trusted's /proc/keys holds.
func Cert(t testing.TB) *x509.Certificate {
	t.Helper()
	b, err := fixtures.ReadFile("testdata/cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := modsign.ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
