package loader

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// WithSigningCheck makes Load read the host's module signature state
// (Secure Boot, lockdown, module.sig_enforce, and whether /proc/keys holds
// the key of the dnsmon certificate at certPath, e.g.
// hoststate.DefaultCertPath) before it calls finit_module, and write to w
// what the user must do when signatures are enforced and the key is not
// trusted: the enrolment steps (mokutil --import certPath, reboot, confirm
// in MokManager). Only the certificate at certPath is ever offered, the one
// dnsmon-fetch verified and wrote there, and only while neither it nor its
// directory can be written by anyone but root: a file beside the module, or
// one another user could have planted, would talk the operator into
// trusting an attacker's key. Load still tries: keys the process may not
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
func (c *signingCheck) run(fsys fs.FS, moduleSigned bool) {
	cert, refused := readTrustedCert(c.certPath)
	st, err := hoststate.Read(fsys, cert)
	if err != nil && !st.Enforced() {
		return
	}
	if refused != nil && st.Enforced() {
		fmt.Fprintf(c.w, "dnsmon-load: not offering %s for enrolment: %v\n", c.certPath, refused)
	}
	if text := SigningAdvice(st, cert, c.certPath, moduleSigned); text != "" {
		fmt.Fprintln(c.w, text)
	}
}

// readTrustedCert reads the certificate at path. It returns no certificate
// when there is none, and an error as well when the file or its directory
// could have been written by anyone but root (or the user running this,
// who must be root to load a module): another owner, or group or world
// write permission. The directories above are the system's, not ours.
func readTrustedCert(path string) (*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	// The file as opened, and the directory that names it.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := writableByOthers(path, fi); err != nil {
		return nil, err
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, err
	} else if err := writableByOthers(filepath.Dir(path), di); err != nil {
		return nil, err
	}
	b, err := boundedio.ReadAll(f, maxCertSize)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return nil, fmt.Errorf("%s is more than %d bytes: not a certificate", path, maxCertSize)
	}
	if err != nil {
		return nil, err
	}
	c, err := modsign.ParseCertificate(b)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// maxCertSize bounds the certificate file read (a module signing
// certificate is about 1.5 KiB).
const maxCertSize = 64 << 10

// writableByOthers returns an error when someone other than root or this
// process's user owns p or may write it.
func writableByOthers(p string, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %v): run chmod go-w %s, and check its content came from dnsmon-fetch", p, fi.Mode().Perm(), p)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not root: fetch the module again with dnsmon-fetch, as root", p, st.Uid)
	}
	return nil
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
