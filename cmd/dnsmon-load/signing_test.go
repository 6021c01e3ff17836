package main

import (
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/hoststate/hoststatetest"
	"github.com/dnsmon/dnsmon/fetcher/loader"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// TestSigningText checks the lines README's troubleshooting table and
// Secure Boot section quote, from the loader's facts.
func TestSigningText(t *testing.T) {
	cert := hoststatetest.Cert(t)
	const path = "/var/lib/dnsmon/dnsmon-module-signing.der"
	sb := []string{"Secure Boot is on", "lockdown=integrity"}
	tests := map[string]struct {
		w    loader.SigningWarning
		want []string // substrings
	}{
		"not trusted": {w: loader.SigningWarning{EnforcedBy: sb, CertPath: path, Cert: cert}, want: []string{
			"dnsmon-load: Secure Boot is on, lockdown=integrity; ", "do not show the dnsmon key", "sudo mokutil --import " + path, "reboot",
			"MokManager", modsign.KeyDescription(cert), "trying to load anyway"}},
		"older key": {w: loader.SigningWarning{EnforcedBy: []string{"module.sig_enforce=1"}, CertPath: path, Cert: cert, OtherKeys: []string{"k1"}},
			want: []string{"module.sig_enforce=1", "an older dnsmon key: k1", "mokutil --import " + path}},
		"unsigned": {w: loader.SigningWarning{EnforcedBy: sb, Unsigned: true, CertPath: path}, want: []string{
			"this kernel only loads signed modules (Secure Boot is on, lockdown=integrity), and this module is unsigned", "dnsmon-fetch", "trying anyway"}},
		"no certificate": {w: loader.SigningWarning{EnforcedBy: sb, CertPath: path}, want: []string{
			"no dnsmon module signing certificate at " + path, "trying anyway"}},
		"group-writable": {w: loader.SigningWarning{EnforcedBy: sb, CertPath: path, CertRefused: &loader.CertFileError{Path: path, Mode: 0o664}},
			want: []string{"dnsmon-load: not offering " + path + " for enrolment: " + path + " is writable by group or others (mode -rw-rw-r--): run chmod go-w " + path,
				"no dnsmon module signing certificate at " + path}},
		"another owner": {w: loader.SigningWarning{EnforcedBy: sb, CertPath: path, CertRefused: &loader.CertFileError{Path: path, UID: 1000}},
			want: []string{"not offering " + path + " for enrolment: " + path + " is owned by uid 1000, not root: fetch the module again with dnsmon-fetch, as root"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := signingText(&tc.w)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("text lacks %q:\n%s", w, got)
				}
			}
			if tc.w.Cert == nil && strings.Contains(got, "mokutil") {
				t.Errorf("no certificate, yet mokutil is offered:\n%s", got)
			}
		})
	}
}
