package loader_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/hoststate/hoststatetest"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/fetcher/loader/loadertest"
)

// TestSigningWarning runs Load with WithSigningCheck on fixture hosts and
// checks the facts of the warning; cmd/dnsmon-load words them.
func TestSigningWarning(t *testing.T) {
	fx := makeFixtures(t)
	cert := hoststatetest.Cert(t)
	tests := map[string]struct {
		host     string
		unsigned bool
		noCert   bool
		want     *loader.SigningWarning // nil: no warning; CertPath and Cert are filled in
	}{
		"bios, nothing enforced":  {host: "bios-plain"},
		"secure boot, trusted":    {host: "secureboot-trusted"},
		"efi without secure boot": {host: "efi-nokeys"},
		"secure boot, not trusted": {host: "secureboot-untrusted",
			want: &loader.SigningWarning{EnforcedBy: []string{"Secure Boot is on", "lockdown=integrity"}}},
		"sig_enforce, older key": {host: "sigenforce-otherkey",
			want: &loader.SigningWarning{EnforcedBy: []string{"module.sig_enforce=1"}, OtherKeys: []string{"older"}}},
		"secure boot, unsigned module": {host: "secureboot-untrusted", unsigned: true,
			want: &loader.SigningWarning{EnforcedBy: []string{"Secure Boot is on", "lockdown=integrity"}, Unsigned: true}},
		"secure boot, no certificate": {host: "secureboot-untrusted", noCert: true,
			want: &loader.SigningWarning{EnforcedBy: []string{"Secure Boot is on", "lockdown=integrity"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dnsmon-module-signing.der")
			if !tc.noCert {
				if err := os.WriteFile(path, cert.Raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ko := fx.signed
			if tc.unsigned {
				ko = fx.plain
			}
			var got []*loader.SigningWarning
			_, err := loader.Load(t.Context(), ko, nil, loader.WithSyscalls(&loadertest.Syscalls{}), loader.WithRelease(release),
				loader.WithFS(hoststatetest.Host(t, tc.host)),
				loader.WithSigningCheck(func(w *loader.SigningWarning) { got = append(got, w) }, path))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.want == nil {
				if len(got) != 0 {
					t.Errorf("warnings %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d warnings, want one", len(got))
			}
			w := got[0]
			if strings.Join(w.EnforcedBy, ", ") != strings.Join(tc.want.EnforcedBy, ", ") || w.Unsigned != tc.want.Unsigned ||
				w.CertPath != path || (w.Cert == nil) != tc.noCert || w.CertRefused != nil ||
				(len(w.OtherKeys) > 0) != (len(tc.want.OtherKeys) > 0) {
				t.Errorf("warning %+v, want %+v with certificate %v", w, tc.want, !tc.noCert)
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
	cert := hoststatetest.Cert(t)
	tests := map[string]struct {
		host     string
		beside   bool        // the certificate is beside the module, not at the stable path
		mode     os.FileMode // of the certificate; default 0644
		dirMode  os.FileMode // of its directory; default 0755
		otherUID bool        // the certificate belongs to another user (needs root)
		pad      int         // bytes appended to the certificate file
		warn     bool        // a warning is given
		offered  bool        // with the certificate at the stable path
		refused  string      // the file refused, for this reason
	}{
		"untrusted, certificate in place":          {host: "secureboot-untrusted", warn: true, offered: true},
		"untrusted, certificate beside the module": {host: "secureboot-untrusted", beside: true, warn: true},
		"untrusted, group-writable certificate": {host: "secureboot-untrusted", mode: 0o664, warn: true,
			refused: "dnsmon-module-signing.der is writable by group or others (mode -rw-rw-r--)"},
		"untrusted, world-writable directory": {host: "secureboot-untrusted", dirMode: 0o777, warn: true,
			refused: "dnsmon is writable by group or others (mode -rwxrwxrwx)"},
		"untrusted, certificate of another user": {host: "secureboot-untrusted", otherUID: true, warn: true,
			refused: "dnsmon-module-signing.der is owned by uid 65534, not root"},
		"untrusted, oversized certificate file": {host: "secureboot-untrusted", pad: 64 << 10, warn: true,
			refused: "dnsmon-module-signing.der is more than 65536 bytes: not a certificate"},
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
			if err := os.WriteFile(certAt, append(bytes.Clone(cert.Raw), make([]byte, tc.pad)...), 0o644); err != nil {
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
			var warnings []*loader.SigningWarning
			k := &loadertest.Syscalls{}
			_, err = loader.Load(t.Context(), ko, nil, loader.WithSyscalls(k), loader.WithRelease(release),
				loader.WithFS(hoststatetest.Host(t, tc.host)),
				loader.WithSigningCheck(func(w *loader.SigningWarning) { warnings = append(warnings, w) }, stable))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(k.Calls()) != 1 {
				t.Errorf("finit_module calls: %+v, want one", k.Calls())
			}
			if len(warnings) != map[bool]int{true: 1}[tc.warn] {
				t.Fatalf("warnings %+v, want %v", warnings, tc.warn)
			}
			if !tc.warn {
				return
			}
			w := warnings[0]
			if w.CertPath != stable || (w.Cert != nil) != tc.offered {
				t.Errorf("warning %+v: certificate at %s offered: %v, want %v", w, stable, w.Cert != nil, tc.offered)
			}
			var cfe *loader.CertFileError
			if tc.refused == "" && w.CertRefused != nil {
				t.Errorf("refused: %v, want not", w.CertRefused)
			}
			switch {
			case tc.refused != "" && tc.pad > 0:
				if w.CertRefused == nil || !strings.HasSuffix(w.CertRefused.Error(), tc.refused) {
					t.Errorf("refused: %v, want an error ending %q", w.CertRefused, tc.refused)
				}
			case tc.refused != "" && (!errors.As(w.CertRefused, &cfe) || !strings.HasSuffix(cfe.Error(), tc.refused)):
				t.Errorf("refused: %v, want a *CertFileError ending %q", w.CertRefused, tc.refused)
			}
			if _, serr := os.Stat(stable); tc.beside && serr == nil {
				t.Error("the certificate beside the module was copied to the stable path")
			}
		})
	}
	if err := loader.WithSigningCheck(nil, "relative.der")(nil); err == nil {
		t.Error("WithSigningCheck accepted a relative path and no function")
	}
}
