package headertree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// Origin is what a Plan is resolved from: the package indexes read (each
// named by its caller, e.g. "URL SUITE main (amd64)") and the root
// packages. Debian drops a superseded kernel's packages from its mirror
// within days; the store remembers which tree each origin resolved to, so
// that a kernel still in use can be built again once its packages are gone.
type Origin struct {
	Indexes []string
	Roots   []string
}

// ID names the origin: the hex SHA-256 of its indexes and roots.
func (o Origin) ID() string {
	h := sha256.New()
	fmt.Fprintf(h, "headertree origin 1\n")
	for _, ix := range o.Indexes {
		fmt.Fprintf(h, "index %s\n", ix)
	}
	for _, r := range o.Roots {
		fmt.Fprintf(h, "root %s\n", r)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// OriginRecord is what the store keeps of the plan an origin last
// resolved to: enough to build against the tree without the index.
type OriginRecord struct {
	// Tree is the plan's key.
	Tree string `json:"tree"`
	// Install is the plan's Install: what the builder image must have.
	Install []string `json:"install"`
}

// byTargetDir holds one OriginRecord per origin, named by its ID.
const byTargetDir = "by-target"

func (s *Store) originPath(o Origin) string { return filepath.Join(s.dir, byTargetDir, o.ID()) }

// RecordOrigin remembers that o resolved to p, whose tree the store holds.
// The record is small and written atomically, and only when it changes.
func (s *Store) RecordOrigin(o Origin, p Plan) error {
	rec := OriginRecord{Tree: p.Key(), Install: slices.Clone(p.Install)}
	if rec.Install == nil {
		rec.Install = []string{}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("recording header tree %s: %w", rec.Tree[:12], err)
	}
	b = append(b, '\n')
	path := s.originPath(o)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("recording header tree %s: %w", rec.Tree[:12], err)
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("recording header tree %s: %w", rec.Tree[:12], err)
	}
	return nil
}

// LookupOrigin returns the record of o; ok is false when there is none.
func (s *Store) LookupOrigin(o Origin) (rec OriginRecord, ok bool, err error) {
	return readRecord(s.originPath(o))
}

func readRecord(path string) (rec OriginRecord, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return OriginRecord{}, false, nil
	}
	if err != nil {
		return OriginRecord{}, false, fmt.Errorf("reading a header tree record: %w", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil || !validKey(rec.Tree) {
		return OriginRecord{}, false, fmt.Errorf("reading the header tree record %s: not a record", path)
	}
	return rec, true, nil
}
