// Package debiantest signs suites for test mirrors the way a Debian
// archive does: an InRelease that lists each index file's size and
// SHA-256, clearsigned by a key the test trusts.
package debiantest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signer holds a freshly made archive key.
type Signer struct {
	entity *openpgp.Entity
}

// NewSigner makes an Ed25519 archive key.
func NewSigner() (*Signer, error) {
	e, err := openpgp.NewEntity("dnsmon test archive", "", "archive@dnsmon.test",
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, fmt.Errorf("making a test archive key: %w", err)
	}
	return &Signer{entity: e}, nil
}

// Keyring is the key as a client trusts it.
func (s *Signer) Keyring() openpgp.EntityList { return openpgp.EntityList{s.entity} }

// InRelease returns a clearsigned Release that lists files (each path
// below dists/SUITE/, and its content) under SHA256, after the header
// fields given as "Name: value" lines.
func (s *Signer) InRelease(files map[string][]byte, header ...string) ([]byte, error) {
	var text strings.Builder
	text.WriteString("Origin: dnsmon test\nSuite: test\n")
	for _, h := range header {
		text.WriteString(h + "\n")
	}
	text.WriteString("SHA256:\n")
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		sum := sha256.Sum256(files[p])
		fmt.Fprintf(&text, " %s %16d %s\n", hex.EncodeToString(sum[:]), len(files[p]), p)
	}
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, s.entity.PrivateKey, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte(text.String())); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// SuiteFiles reads every regular file below dir, keyed by its slash path
// relative to dir, leaving out the InRelease files it may hold.
func SuiteFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || d.Name() == "InRelease" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	return files, err
}
