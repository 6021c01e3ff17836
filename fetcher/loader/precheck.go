package loader

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// WithSigningCheck makes Load read the host's module signature state
// (Secure Boot, lockdown, module.sig_enforce, and whether /proc/keys holds
// the key of the dnsmon certificate at certPath, e.g.
// hoststate.DefaultCertPath) before it calls finit_module, and give warn a
// *SigningWarning when signatures are enforced and the module's key may
// not be trusted. The certificate at certPath is offered (Cert) only while
// neither it nor its directory can be written by anyone but root: a file
// beside the module, or one another user could have planted, would talk
// the operator into trusting an attacker's key. Load still tries: keys the
// process may not view are missing from /proc/keys. Default: no check.
func WithSigningCheck(warn func(*SigningWarning), certPath string) Option {
	return func(o *options) error {
		if warn == nil || certPath == "" || !filepath.IsAbs(certPath) {
			return fmt.Errorf("WithSigningCheck: need a function and an absolute certificate path, not %q", certPath)
		}
		o.signCheck = &signingCheck{warn: warn, certPath: certPath}
		return nil
	}
}

// SigningWarning says that the kernel only loads signed modules and that
// this module may not pass: it is unsigned, the dnsmon certificate is not
// at CertPath (or may not be trusted), or the kernel's keyrings do not show
// its key. The command words it; Load tries anyway.
type SigningWarning struct {
	// EnforcedBy names what makes the kernel insist on signatures:
	// "Secure Boot is on", "lockdown=integrity", "module.sig_enforce=1".
	EnforcedBy []string
	// Unsigned is true when the module carries no signature.
	Unsigned bool
	// CertPath is where the dnsmon module signing certificate is looked for.
	CertPath string
	// Cert is the certificate at CertPath, nil when there is none or it
	// was refused.
	Cert *x509.Certificate
	// CertRefused says why the file at CertPath is not offered for
	// enrolment (a *CertFileError, or why it does not parse); nil if it is.
	CertRefused error
	// OtherKeys are keys the kernel trusts with the same signer as Cert:
	// older dnsmon keys.
	OtherKeys []string
}

// CertFileError says that someone other than root could have written the
// certificate file or its directory.
type CertFileError struct {
	Path string
	// Mode is set when group or others may write Path.
	Mode os.FileMode
	// UID is set when Path belongs to another user than root or this
	// process's.
	UID uint32
}

func (e *CertFileError) Error() string {
	if e.UID != 0 {
		return fmt.Sprintf("%s is owned by uid %d, not root", e.Path, e.UID)
	}
	return fmt.Sprintf("%s is writable by group or others (mode %v)", e.Path, e.Mode)
}

type signingCheck struct {
	warn     func(*SigningWarning)
	certPath string
}

// run reads the state and gives the warning; it never fails the load.
func (c *signingCheck) run(fsys fs.FS, moduleSigned bool) {
	cert, refused := readTrustedCert(c.certPath)
	st, err := hoststate.Read(fsys, cert)
	if err != nil && !st.Enforced() {
		return
	}
	// A refused certificate is no certificate: with signatures enforced,
	// there is always a warning to carry why.
	if w := signingWarning(st, cert, c.certPath, moduleSigned); w != nil {
		w.CertRefused = refused
		c.warn(w)
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
		return &CertFileError{Path: p, Mode: fi.Mode().Perm()}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return &CertFileError{Path: p, UID: st.Uid}
	}
	return nil
}

// signingWarning is the warning for st: nil when the host does not
// enforce module signatures or already trusts the key of cert.
func signingWarning(st hoststate.State, cert *x509.Certificate, certPath string, moduleSigned bool) *SigningWarning {
	if !st.Enforced() || (moduleSigned && cert != nil && st.KeyTrusted == hoststate.Yes) {
		return nil
	}
	w := &SigningWarning{EnforcedBy: enforcedBy(st), Unsigned: !moduleSigned, CertPath: certPath, Cert: cert}
	if moduleSigned && cert != nil {
		w.OtherKeys = st.OtherKeys
	}
	return w
}

// enforcedBy names what makes the kernel insist on signatures.
func enforcedBy(st hoststate.State) []string {
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
	return why
}
