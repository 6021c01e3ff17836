package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/fetcher/loader"
)

// signingText is what dnsmon-load prints on stderr, before loading, for
// the loader's signing warning: why the load will likely fail and what to
// do about it.
func signingText(w *loader.SigningWarning) string {
	var b strings.Builder
	why := strings.Join(w.EnforcedBy, ", ")
	if w.CertRefused != nil {
		fmt.Fprintf(&b, "dnsmon-load: not offering %s for enrolment: %v\n", w.CertPath, certRefusal(w.CertRefused))
	}
	switch {
	case w.Unsigned:
		fmt.Fprintf(&b, "dnsmon-load: this kernel only loads signed modules (%s), and this module is unsigned: "+
			"fetch the signed module with dnsmon-fetch (it also writes the dnsmon certificate to %s); trying anyway", why, w.CertPath)
	case w.Cert == nil:
		fmt.Fprintf(&b, "dnsmon-load: this kernel only loads signed modules (%s); there is no dnsmon module signing certificate at %s "+
			"(dnsmon-fetch writes it), so whether the kernel trusts the module's key is unknown; trying anyway", why, w.CertPath)
	default:
		fmt.Fprintf(&b, "dnsmon-load: %s; the kernel's keyrings (/proc/keys) do not show the dnsmon key.\n", why)
		if len(w.OtherKeys) > 0 {
			fmt.Fprintf(&b, "They hold another key with the same signer, an older dnsmon key: %s\n", strings.Join(w.OtherKeys, "; "))
		}
		b.WriteString(hoststate.Guidance(w.Cert, w.CertPath))
		b.WriteString("\n(Keys this process may not view are missing from /proc/keys: trying to load anyway.)")
	}
	return b.String()
}

// certRefusal adds to why a certificate file was refused what to do.
func certRefusal(err error) string {
	var cfe *loader.CertFileError
	switch {
	case !errors.As(err, &cfe):
		return err.Error()
	case cfe.UID != 0:
		return err.Error() + ": fetch the module again with dnsmon-fetch, as root"
	}
	return fmt.Sprintf("%v: run chmod go-w %s, and check its content came from dnsmon-fetch", err, cfe.Path)
}
