package hoststate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/hoststate/hoststatetest"
)

func TestRead(t *testing.T) {
	cert := hoststatetest.Cert(t)
	tests := map[string]struct {
		want      State
		others    int
		enforced  bool
		needsMOK  bool
		wantError bool
	}{
		"bios-plain":           {want: State{EFI: No, SecureBoot: No, Lockdown: "none", SigEnforce: No, KeyTrusted: No}},
		"efi-nokeys":           {want: State{EFI: Yes, SecureBoot: No}},
		"secureboot-untrusted": {want: State{EFI: Yes, SecureBoot: Yes, Lockdown: "integrity", SigEnforce: No, KeyTrusted: No}, enforced: true, needsMOK: true},
		"secureboot-trusted":   {want: State{EFI: Yes, SecureBoot: Yes, Lockdown: "integrity", SigEnforce: No, KeyTrusted: Yes}, enforced: true},
		"sigenforce-otherkey":  {want: State{EFI: Yes, SecureBoot: No, Lockdown: "none", SigEnforce: Yes, KeyTrusted: No}, others: 1, enforced: true, needsMOK: true},
		"malformed":            {want: State{EFI: Yes}, wantError: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Read(hoststatetest.Host(t, name), cert)
			if (err != nil) != tc.wantError {
				t.Fatalf("Read: %v (want error %v)", err, tc.wantError)
			}
			if len(s.OtherKeys) != tc.others {
				t.Errorf("other keys %q, want %d", s.OtherKeys, tc.others)
			}
			if (s.Key != "") != (tc.want.KeyTrusted == Yes) {
				t.Errorf("key line %q", s.Key)
			}
			s.Key, s.OtherKeys = "", nil
			if s.String() != tc.want.String() || s.EFI != tc.want.EFI {
				t.Errorf("Read = %v (EFI %v), want %v (EFI %v)", s, s.EFI, tc.want, tc.want.EFI)
			}
			if s.Enforced() != tc.enforced || s.NeedsEnrolment() != tc.needsMOK {
				t.Errorf("Enforced %v NeedsEnrolment %v, want %v %v", s.Enforced(), s.NeedsEnrolment(), tc.enforced, tc.needsMOK)
			}
		})
	}
	t.Run("no-cert", func(t *testing.T) {
		s, err := Read(hoststatetest.Host(t, "secureboot-trusted"), nil)
		if err != nil || s.KeyTrusted != Unknown {
			t.Errorf("Read without a certificate: %v, %v", s.KeyTrusted, err)
		}
	})
}

func TestWriteCert(t *testing.T) {
	cert := hoststatetest.Cert(t)
	path := filepath.Join(t.TempDir(), "var", "lib", "dnsmon", "dnsmon-module-signing.der")
	if err := WriteCert(cert, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != string(cert.Raw) {
		t.Fatalf("written certificate differs: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("certificate mode: %v, %v", fi, err)
	}
	if err := WriteCert(nil, path); err == nil {
		t.Error("WriteCert(nil) succeeded")
	}
}
