package loader

import (
	"crypto/x509"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/hoststate"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// WithSigningCheck makes Load read the host's module signature state
// (Secure Boot, lockdown, module.sig_enforce, and whether /proc/keys holds
// the key of the dnsmon certificate at certPath, e.g.
// hoststate.DefaultCertPath) before it calls finit_module, and write to w
// what the user must do when signatures are enforced and the key is not
// trusted: the enrolment steps (mokutil --import certPath, reboot, confirm
// in MokManager). A certificate found only beside the module file is
// first copied to certPath. Load still tries: keys the process may not
// view are missing from /proc/keys. Default: no check.
func WithSigningCheck(w io.Writer, certPath string) Option {
	return func(o *options) error {
		if w == nil || certPath == "" || !filepath.IsAbs(certPath) {
			return fmt.Errorf("WithSigningCheck: need a writer and an absolute certificate path, not %q", certPath)
		}
		o.signCheck = &signingCheck{w: w, certPath: certPath}
		return nil
	}
}

type signingCheck struct {
	w        io.Writer
	certPath string
}

// run reads the state and prints the advice; it never fails the load.
func (c *signingCheck) run(fsys fs.FS, modulePath string, moduleSigned bool) {
	cert, at := readCert(c.certPath, filepath.Join(filepath.Dir(modulePath), filepath.Base(c.certPath)))
	st, err := hoststate.Read(fsys, cert)
	if err != nil && !st.Enforced() {
		return
	}
	path := c.certPath
	if cert != nil && at != c.certPath && st.NeedsEnrolment() && moduleSigned {
		if _, err := hoststate.WriteEnrolment(cert, c.certPath); err != nil {
			path = at // enrol it from where it is
		}
	}
	if text := SigningAdvice(st, cert, path, moduleSigned); text != "" {
		fmt.Fprintln(c.w, text)
	}
}

// readCert returns the first certificate found at paths, and where.
func readCert(paths ...string) (*x509.Certificate, string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if c, err := modsign.ParseCertificate(b); err == nil {
			return c, p
		}
	}
	return nil, ""
}

// SigningAdvice is what dnsmon-load prints before loading: empty when the
// host does not enforce module signatures or already trusts the key of
// cert; otherwise why the load will likely fail and what to do. certPath
// is where the certificate is on disk (for mokutil).
func SigningAdvice(st hoststate.State, cert *x509.Certificate, certPath string, moduleSigned bool) string {
	if !st.Enforced() {
		return ""
	}
	why := enforcedBy(st)
	switch {
	case !moduleSigned:
		return fmt.Sprintf("dnsmon-load: this kernel only loads signed modules (%s), and this module is unsigned: "+
			"fetch the signed module with dnsmon-fetch (it also writes the dnsmon certificate to %s); trying anyway", why, certPath)
	case cert == nil:
		return fmt.Sprintf("dnsmon-load: this kernel only loads signed modules (%s); there is no dnsmon module signing certificate at %s "+
			"(dnsmon-fetch writes it), so whether the kernel trusts the module's key is unknown; trying anyway", why, certPath)
	case st.KeyTrusted == hoststate.Yes:
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dnsmon-load: %s; the kernel's keyrings (/proc/keys) do not show the dnsmon key.\n", why)
	if len(st.OtherKeys) > 0 {
		fmt.Fprintf(&b, "They hold another key with the same signer, an older dnsmon key: %s\n", strings.Join(st.OtherKeys, "; "))
	}
	b.WriteString(hoststate.Guidance(cert, certPath))
	b.WriteString("\n(Keys this process may not view are missing from /proc/keys: trying to load anyway.)")
	return b.String()
}

// enforcedBy names what makes the kernel insist on signatures.
func enforcedBy(st hoststate.State) string {
	var why []string
	if st.SecureBoot == hoststate.Yes {
		why = append(why, "Secure Boot is on")
	}
	if st.Lockdown != "" && st.Lockdown != "none" {
		why = append(why, "lockdown="+st.Lockdown)
	}
	if st.SigEnforce == hoststate.Yes {
		why = append(why, "module.sig_enforce=1")
	}
	return strings.Join(why, ", ")
}
