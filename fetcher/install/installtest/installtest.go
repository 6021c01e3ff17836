// Package installtest helps the tests of installing and uninstalling, on a
// test root and on a guest's disk, check that the disk is as before.
package installtest

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Snapshot lists every path under root but root itself, sorted, one line
// each: the path inside root ("/etc/x"), its mode, and a regular file's
// content digest or a link's target. Two snapshots are equal when nothing
// was added, removed or changed. The directories in skip (paths inside
// root, "/proc") are listed but not entered.
func Snapshot(root string, skip ...string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = "/" + rel
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := rel + " " + fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + t
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:8])
		}
		out = append(out, line)
		if d.IsDir() && slices.Contains(skip, rel) {
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}
