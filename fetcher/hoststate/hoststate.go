package hoststate

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/boundedio"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// Paths read, relative to the root file system given to Read.
const (
	SecureBootPath = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
	EFIPath        = "sys/firmware/efi"
	LockdownPath   = "sys/kernel/security/lockdown"
	SigEnforcePath = "sys/module/module/parameters/sig_enforce"
	KeysPath       = "proc/keys"
)

// Answer is a yes/no that may be unknown (a file missing or unreadable).
type Answer int

// Answers.
const (
	Unknown Answer = iota
	No
	Yes
)

func (a Answer) String() string {
	switch a {
	case No:
		return "no"
	case Yes:
		return "yes"
	}
	return "unknown"
}

// State is what the host says about module signatures.
type State struct {
	// EFI: the kernel was booted through UEFI (sys/firmware/efi exists).
	EFI Answer
	// SecureBoot: the SecureBoot EFI variable's value byte is 1.
	SecureBoot Answer
	// Lockdown is the active lockdown mode: "none", "integrity",
	// "confidentiality", or "" when unknown.
	Lockdown string
	// SigEnforce: module.sig_enforce is Y (on the command line or built in).
	SigEnforce Answer
	// KeyTrusted: a key whose description is the certificate's
	// ("SIGNER: SKID") is in /proc/keys. Unknown without a certificate or
	// without /proc/keys. Keys in keyrings this process may not view are
	// missing from /proc/keys, so No is a strong hint, not a proof.
	KeyTrusted Answer
	// Key is the matching /proc/keys line, when KeyTrusted is Yes.
	Key string
	// OtherKeys are /proc/keys lines naming the certificate's signer with
	// another key id (an older dnsmon key).
	OtherKeys []string
}

// Enforced reports whether the kernel refuses unsigned modules: Secure
// Boot (which on distribution kernels implies lockdown), lockdown, or
// sig_enforce.
func (s State) Enforced() bool {
	return s.SecureBoot == Yes || s.SigEnforce == Yes || (s.Lockdown != "" && s.Lockdown != "none")
}

// NeedsEnrolment reports whether loading will fail until the key is
// enrolled: signatures are enforced and the key is not known to be trusted.
func (s State) NeedsEnrolment() bool {
	return s.Enforced() && s.KeyTrusted != Yes
}

// String is a one-line summary, e.g. "Secure Boot yes, lockdown integrity,
// sig_enforce yes, key trusted no".
func (s State) String() string {
	ld := s.Lockdown
	if ld == "" {
		ld = "unknown"
	}
	return fmt.Sprintf("Secure Boot %v, lockdown %s, sig_enforce %v, key trusted %v", s.SecureBoot, ld, s.SigEnforce, s.KeyTrusted)
}

// maxFile caps what is read from any one file.
const maxFile = 4 << 20

// Read reads the state from fsys, a view of the root directory (os.DirFS("/")
// on a host). cert is the module signing certificate; nil leaves KeyTrusted
// Unknown. Missing files make their answers Unknown; Read fails only on a
// malformed file.
func Read(fsys fs.FS, cert *x509.Certificate) (State, error) {
	var s State
	var errs []error
	if _, err := fs.Stat(fsys, EFIPath); err == nil {
		s.EFI = Yes
	} else if errors.Is(err, fs.ErrNotExist) {
		s.EFI = No
	}
	if b, ok := read(fsys, SecureBootPath); ok {
		// efivarfs: four attribute bytes, then the one-byte value.
		if len(b) != 5 {
			errs = append(errs, fmt.Errorf("reading %s: %d bytes, want 5", SecureBootPath, len(b)))
		} else if b[4] == 1 {
			s.SecureBoot = Yes
		} else {
			s.SecureBoot = No
		}
	} else if s.EFI == No {
		s.SecureBoot = No // BIOS boot: no Secure Boot
	}
	if b, ok := read(fsys, LockdownPath); ok {
		i, j := bytes.IndexByte(b, '['), bytes.IndexByte(b, ']')
		if i < 0 || j < i {
			errs = append(errs, fmt.Errorf("reading %s: no [mode] in %q", LockdownPath, b))
		} else {
			s.Lockdown = string(b[i+1 : j])
		}
	}
	if b, ok := read(fsys, SigEnforcePath); ok {
		switch strings.TrimSpace(string(b)) {
		case "Y", "1":
			s.SigEnforce = Yes
		case "N", "0":
			s.SigEnforce = No
		default:
			errs = append(errs, fmt.Errorf("reading %s: %q is not Y or N", SigEnforcePath, b))
		}
	}
	if cert != nil {
		if b, ok := read(fsys, KeysPath); ok {
			s.KeyTrusted, s.Key, s.OtherKeys = findKey(b, cert)
		}
	}
	return s, errors.Join(errs...)
}

func read(fsys fs.FS, name string) ([]byte, bool) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := boundedio.ReadAll(f, maxFile)
	if err != nil {
		return nil, false
	}
	return b, true
}

// findKey looks for the certificate's key in /proc/keys: an asymmetric key
// whose description is "SIGNER: SKID" (the kernel's x509 key description).
func findKey(keys []byte, cert *x509.Certificate) (Answer, string, []string) {
	desc := modsign.KeyDescription(cert)
	signer, _, _ := strings.Cut(desc, ": ")
	var others []string
	sc := bufio.NewScanner(bytes.NewReader(keys))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, " asymmetri ") {
			continue
		}
		if strings.Contains(line, " "+desc+":") || strings.HasSuffix(line, " "+desc) {
			return Yes, strings.TrimSpace(line), nil
		}
		if strings.Contains(line, " "+signer+": ") {
			others = append(others, strings.TrimSpace(line))
		}
	}
	return No, "", others
}
