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
	"sync"
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

	signer *Signer
	mu     sync.RWMutex
	suites map[string][]Deb
	files  map[string][]byte // path below the root → content
}

// NewMirror serves suites; close it with Close.
func NewMirror(s *Signer, suites map[string][]Deb) (*Mirror, error) {
	m := &Mirror{signer: s, suites: map[string][]Deb{}, files: map[string][]byte{}}
	for suite, debs := range suites {
		m.suites[suite] = slices.Clone(debs)
	}
	if err := m.publish(); err != nil {
		return nil, err
	}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m, nil
}

// Drop removes the named packages from a suite, its signed index and its
// pool, as Debian's archive drops superseded kernels.
func (m *Mirror) Drop(suite string, names ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.suites[suite] = slices.DeleteFunc(m.suites[suite], func(d Deb) bool { return slices.Contains(names, d.Name) })
	return m.publish()
}

// publish makes the pool, the indexes and their signed InRelease files of
// m.suites, replacing what m served before. Callers other than NewMirror
// hold m.mu.
func (m *Mirror) publish() error {
	files := map[string][]byte{}
	for suite, debs := range m.suites {
		var index bytes.Buffer
		for _, d := range debs {
			b, err := d.Bytes()
			if err != nil {
				return err
			}
			name := fmt.Sprintf("pool/main/%s_%s_amd64.deb", d.Name, d.Version)
			files[name] = b
			sum := sha256.Sum256(b)
			fmt.Fprintf(&index, "Package: %s\nVersion: %s\nArchitecture: amd64\n", d.Name, d.Version)
			if d.Depends != "" {
				fmt.Fprintf(&index, "Depends: %s\n", d.Depends)
			}
			fmt.Fprintf(&index, "Filename: %s\nSize: %d\nSHA256: %s\nDescription: test package\n\n", name, len(b), hex.EncodeToString(sum[:]))
		}
		in, err := m.signer.InRelease(map[string][]byte{"main/binary-amd64/Packages": index.Bytes()})
		if err != nil {
			return err
		}
		files["dists/"+suite+"/main/binary-amd64/Packages"] = index.Bytes()
		files["dists/"+suite+"/InRelease"] = in
	}
	m.files = files
	return nil
}

func (m *Mirror) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	m.mu.RLock()
	b, ok := m.files[p]
	m.mu.RUnlock()
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
