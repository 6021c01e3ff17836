package headertree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/builder/internal/flock"
)

// ErrBusy is matched by the errors of Remove, Check and HoldPackages when
// a build holds what they would remove.
var ErrBusy = flock.ErrBusy

// Entry is one tree of the store, complete or left half made by a killed
// process.
type Entry struct {
	// Key is the tree's Plan.Key.
	Key string
	// Paths are its directories: KEY, and KEY.tmp while one is left.
	Paths []string
	// Complete is false for what a killed process left half made.
	Complete bool
	// LastUse is when a build last used the tree (its marker's mtime);
	// zero when it is not complete.
	LastUse time.Time
	// Packages are the unpacked packages, "NAME VERSION" each, as its
	// marker lists them.
	Packages []string
}

// Entries lists the store's trees, sorted by key.
func (s *Store) Entries() ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing header trees: %w", err)
	}
	byKey := map[string]*Entry{}
	for _, de := range des {
		key := strings.TrimSuffix(de.Name(), ".tmp")
		if !de.IsDir() || !validKey(key) {
			continue // lock files, records
		}
		e := byKey[key]
		if e == nil {
			e = &Entry{Key: key}
			byKey[key] = e
		}
		e.Paths = append(e.Paths, filepath.Join(s.dir, de.Name()))
		if de.Name() != key {
			continue
		}
		marker := filepath.Join(s.dir, key, doneFile)
		fi, err := os.Stat(marker)
		if err != nil {
			continue
		}
		e.Complete, e.LastUse = true, fi.ModTime()
		b, err := os.ReadFile(marker)
		if err != nil {
			return nil, fmt.Errorf("listing header trees: %w", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) >= 2 {
				e.Packages = append(e.Packages, f[0]+" "+f[1])
			}
		}
	}
	out := make([]Entry, 0, len(byKey))
	for _, e := range byKey {
		slices.Sort(e.Paths)
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Check reports whether the tree of key could be removed now: an error
// matching ErrBusy when a build holds it.
func (s *Store) Check(key string) error {
	unlock, err := s.tryLock(key)
	if err != nil {
		return err
	}
	unlock()
	return nil
}

// tryLock takes the tree's lock exclusively, without waiting.
func (s *Store) tryLock(key string) (unlock func(), err error) {
	if !validKey(key) {
		return nil, fmt.Errorf("header tree %q: not a tree key", key)
	}
	return flock.TryExclusive(s.lockPath(key))
}

// Remove removes the tree of key, and what a killed process left half
// made of it, unless a build holds it: then its error matches ErrBusy.
// The tree is renamed away before it is removed, so that a Remove killed
// halfway leaves nothing that passes for a complete tree. Its lock file
// stays: a process may hold it open, waiting, and another that made a new
// file of that name would not wait for it.
func (s *Store) Remove(key string) error {
	unlock, err := s.tryLock(key)
	if err != nil {
		return err
	}
	defer unlock()
	dir, tmp := s.treeDir(key), s.treeDir(key)+".tmp"
	if err := removeAll(tmp); err != nil {
		return fmt.Errorf("removing header tree %s: %w", key[:12], err)
	}
	if err := os.Rename(dir, tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing header tree %s: %w", key[:12], err)
	}
	if err := removeAll(tmp); err != nil {
		return fmt.Errorf("removing header tree %s: %w", key[:12], err)
	}
	return nil
}

// HoldPackages returns once no tree is being made, and keeps any from
// being made until release is called: while it holds, no downloaded
// package is between its download and its unpacking, so packages can be
// removed. It does not wait: when a tree is being made its error matches
// ErrBusy.
func (s *Store) HoldPackages() (release func(), err error) {
	return flock.TryExclusive(s.packagesLockPath())
}

// ForgetRemoved removes the origin records whose tree the store no longer
// has, and returns how many it removed.
func (s *Store) ForgetRemoved() (int, error) {
	dir := filepath.Join(s.dir, byTargetDir)
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("listing header tree records: %w", err)
	}
	n := 0
	for _, de := range des {
		if !validKey(de.Name()) {
			continue // a temporary file of a write in progress
		}
		rec, ok, err := readRecord(filepath.Join(dir, de.Name()))
		if err != nil || !ok || complete(s.treeDir(rec.Tree)) {
			continue // an unreadable record is left for a person to look at
		}
		if err := os.Remove(filepath.Join(dir, de.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("removing header tree record: %w", err)
		}
		n++
	}
	return n, nil
}
