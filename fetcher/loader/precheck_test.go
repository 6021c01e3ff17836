package loader_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/fetcher/loader/loadertest"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// hostStates are fetcher/hoststate's fixtures: views of / on hosts with and
// without Secure Boot, sig_enforce and the dnsmon key in /proc/keys.
const hostStates = "../hoststate/testdata"

func stateCert(t *testing.T) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hostStates, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := modsign.ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSigningAdvice(t *testing.T) {
	cert := stateCert(t)
	const path = "/var/lib/dnsmon/dnsmon-module-signing.der"
	tests := map[string]struct {
		host     string
		unsigned bool
		noCert   bool
		want     []string // substrings; none means no advice
	}{
		"bios, nothing enforced":  {host: "bios-plain"},
		"secure boot, trusted":    {host: "secureboot-trusted"},
		"efi without secure boot": {host: "efi-nokeys"},
		"secure boot, not trusted": {host: "secureboot-untrusted", want: []string{
			"Secure Boot is on, lockdown=integrity", "do not show the dnsmon key", "sudo mokutil --import " + path, "reboot",
			"MokManager", modsign.KeyDescription(cert), "trying to load anyway"}},
		"sig_enforce, older key": {host: "sigenforce-otherkey", want: []string{
			"module.sig_enforce=1", "an older dnsmon key", "mokutil --import " + path}},
		"secure boot, unsigned module": {host: "secureboot-untrusted", unsigned: true, want: []string{
			"this module is unsigned", "dnsmon-fetch", "trying anyway"}},
		"secure boot, no certificate": {host: "secureboot-untrusted", noCert: true, want: []string{
			"no dnsmon module signing certificate at " + path, "trying anyway"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := cert
			if tc.noCert {
				c = nil
			}
			st, err := hoststate.Read(os.DirFS(filepath.Join(hostStates, tc.host)), c)
			if err != nil {
				t.Fatal(err)
			}
			got := loader.SigningAdvice(st, c, path, !tc.unsigned)
			if len(tc.want) == 0 {
				if got != "" {
					t.Errorf("advice %q, want none", got)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("advice lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestLoadWithSigningCheck runs Load with WithSigningCheck on fixture hosts:
// the advice comes before finit_module, which is still called. Only the
// certificate at the stable path is offered for enrolment, and only while
// no one but root can have written it: one beside the module is ignored.
func TestLoadWithSigningCheck(t *testing.T) {
	fx := makeFixtures(t)
	cert := stateCert(t)
	const noCert = "there is no dnsmon module signing certificate at "
	tests := map[string]struct {
		host     string
		beside   bool        // the certificate is beside the module, not at the stable path
		mode     os.FileMode // of the certificate; default 0644
		dirMode  os.FileMode // of its directory; default 0755
		otherUID bool        // the certificate belongs to another user (needs root)
		want     []string    // substrings, each followed by the stable path
	}{
		"untrusted, certificate in place": {host: "secureboot-untrusted", want: []string{"mokutil --import "}},
		"untrusted, certificate beside the module": {host: "secureboot-untrusted", beside: true,
			want: []string{noCert}},
		"untrusted, group-writable certificate": {host: "secureboot-untrusted", mode: 0o664,
			want: []string{"not offering ", noCert}},
		"untrusted, world-writable directory": {host: "secureboot-untrusted", dirMode: 0o777,
			want: []string{"not offering ", noCert}},
		"untrusted, certificate of another user": {host: "secureboot-untrusted", otherUID: true,
			want: []string{"not offering ", noCert}},
		"trusted":                          {host: "secureboot-trusted"},
		"not enforced, certificate beside": {host: "bios-plain", beside: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.otherUID && os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root; make test runs as root")
			}
			dir := t.TempDir()
			stable := filepath.Join(dir, "var", "lib", "dnsmon", "dnsmon-module-signing.der")
			ko := filepath.Join(dir, "modules", "dnsmon.ko")
			b, err := os.ReadFile(fx.signed)
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(ko), 0o755)
			os.MkdirAll(filepath.Dir(stable), 0o755)
			if err := os.WriteFile(ko, b, 0o644); err != nil {
				t.Fatal(err)
			}
			certAt := stable
			if tc.beside {
				certAt = filepath.Join(filepath.Dir(ko), filepath.Base(stable))
			}
			if err := os.WriteFile(certAt, cert.Raw, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.mode != 0 {
				os.Chmod(certAt, tc.mode)
			}
			if tc.dirMode != 0 {
				os.Chmod(filepath.Dir(certAt), tc.dirMode)
			}
			if tc.otherUID {
				if err := os.Chown(certAt, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			k := &loadertest.Syscalls{}
			_, err = loader.Load(t.Context(), ko, nil, loader.WithSyscalls(k), loader.WithRelease(release),
				loader.WithFS(os.DirFS(filepath.Join(hostStates, tc.host))), loader.WithSigningCheck(&out, stable))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(k.Calls()) != 1 {
				t.Errorf("finit_module calls: %+v, want one", k.Calls())
			}
			if len(tc.want) == 0 && out.Len() > 0 {
				t.Errorf("advice %q, want none", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w+stable) {
					t.Errorf("advice %q lacks %q", out.String(), w+stable)
				}
			}
			if strings.Contains(out.String(), "mokutil") && len(tc.want) > 0 && tc.want[0] != "mokutil --import " {
				t.Errorf("a certificate that cannot be trusted was offered for enrolment: %q", out.String())
			}
			if _, serr := os.Stat(stable); tc.beside && serr == nil {
				t.Error("the certificate beside the module was copied to the stable path")
			}
		})
	}
	if err := loader.WithSigningCheck(nil, "relative.der")(nil); err == nil {
		t.Error("WithSigningCheck accepted a relative path and no writer")
	}
}
