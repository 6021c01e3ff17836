package debiantest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
)

// Deb is a package a test mirror serves.
type Deb struct {
	Name, Version, Depends string
	// Files maps paths below / to their content; Links paths to symlink
	// targets.
	Files, Links map[string]string
}

// Bytes returns the .deb: an ar archive of debian-binary and an
// uncompressed data.tar.
func (d Deb) Bytes() ([]byte, error) {
	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	paths := make([]string, 0, len(d.Files)+len(d.Links))
	for p := range d.Files {
		paths = append(paths, p)
	}
	for p := range d.Links {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		h := &tar.Header{Name: "./" + strings.TrimPrefix(p, "/"), Mode: 0o644}
		if target, ok := d.Links[p]; ok {
			h.Typeflag, h.Linkname = tar.TypeSymlink, target
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(d.Files[p]))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(d.Files[p])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return Ar(data.Bytes()), nil
}

// Ar returns a .deb holding the data archive data (an uncompressed tar):
// the ar archive of debian-binary and data.tar.
func Ar(data []byte) []byte {
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"data.tar", data}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.name, 0, 0, 0, 0o644, len(m.body))
		ar.Write(m.body)
		if len(m.body)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	return ar.Bytes()
}

// Mirror is an HTTP Debian mirror of signed suites (component main, arch
// amd64) holding Debs.
type Mirror struct {
	*httptest.Server
	// Hits counts requests for packages (below pool/).
	Hits atomic.Int32
	// Tamper flips a byte of every package served while set.
	Tamper atomic.Bool

	files map[string][]byte // path below the root → content
}

// NewMirror serves suites; close it with Close.
func NewMirror(s *Signer, suites map[string][]Deb) (*Mirror, error) {
	m := &Mirror{files: map[string][]byte{}}
	for suite, debs := range suites {
		var index bytes.Buffer
		for _, d := range debs {
			b, err := d.Bytes()
			if err != nil {
				return nil, err
			}
			name := fmt.Sprintf("pool/main/%s_%s_amd64.deb", d.Name, d.Version)
			m.files[name] = b
			sum := sha256.Sum256(b)
			fmt.Fprintf(&index, "Package: %s\nVersion: %s\nArchitecture: amd64\n", d.Name, d.Version)
			if d.Depends != "" {
				fmt.Fprintf(&index, "Depends: %s\n", d.Depends)
			}
			fmt.Fprintf(&index, "Filename: %s\nSize: %d\nSHA256: %s\nDescription: test package\n\n", name, len(b), hex.EncodeToString(sum[:]))
		}
		in, err := s.InRelease(map[string][]byte{"main/binary-amd64/Packages": index.Bytes()})
		if err != nil {
			return nil, err
		}
		m.files["dists/"+suite+"/main/binary-amd64/Packages"] = index.Bytes()
		m.files["dists/"+suite+"/InRelease"] = in
	}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m, nil
}

func (m *Mirror) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	b, ok := m.files[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(p, "pool/") {
		m.Hits.Add(1)
		if m.Tamper.Load() {
			b = slices.Clone(b)
			b[len(b)/2] ^= 1
		}
	}
	w.Write(b)
}
