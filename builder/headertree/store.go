package headertree

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dnsmon/dnsmon/builder/internal/flock"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Downloader fetches one package, verified against its index, and returns
// the path of the .deb; *debian.Client is one.
type Downloader interface {
	Download(ctx context.Context, p debian.Package) (string, error)
}

// Store keeps unpacked header trees under one directory.
type Store struct {
	dir string
	dl  Downloader
	// downloads bounds parallel package downloads per tree.
	downloads int
}

// doneFile marks a complete tree; its mtime is the tree's last use.
const doneFile = ".done"

// NewStore returns a store of trees under dir/trees, downloading through dl.
func NewStore(dir string, dl Downloader) *Store {
	return &Store{dir: filepath.Join(dir, "trees"), dl: dl, downloads: 4}
}

// Tree is an unpacked header tree.
type Tree struct {
	// Dir is the tree's root: the packages' data archives unpacked there
	// as they would be below /.
	Dir string
	// Key is its Plan.Key.
	Key string
}

func (s *Store) treeDir(key string) string  { return filepath.Join(s.dir, key) }
func (s *Store) lockPath(key string) string { return filepath.Join(s.dir, key+".lock") }

// packagesLockPath is held shared by every tree being made, from its
// downloads to the end of its unpacking, and exclusive by Prune while it
// removes downloaded packages.
func (s *Store) packagesLockPath() string { return filepath.Join(s.dir, "packages.lock") }

// Use returns p's tree, making it first if it does not exist, and holds it
// against Prune until release is called. Processes sharing the directory
// make each tree once: one makes it while the others wait.
func (s *Store) Use(ctx context.Context, p Plan) (t Tree, release func(), err error) {
	key := p.Key()
	for attempt := 0; attempt < 2; attempt++ {
		t, release, err := s.UseKey(ctx, key)
		if !errors.Is(err, ErrNoTree) {
			return t, release, err
		}
		if err := s.make(ctx, p, Tree{Dir: s.treeDir(key), Key: key}); err != nil {
			return Tree{}, nil, err
		}
	}
	return Tree{}, nil, fmt.Errorf("header tree %s vanished right after it was made", key[:12])
}

// ErrNoTree is matched by UseKey's error when the store has no complete
// tree of that key.
var ErrNoTree = errors.New("no such header tree")

// UseKey returns the tree of that key if the store has it, holding it
// against Prune until release is called, and marks it used. It makes
// nothing: a tree whose packages the mirror no longer serves is used so.
func (s *Store) UseKey(ctx context.Context, key string) (t Tree, release func(), err error) {
	if !validKey(key) {
		return Tree{}, nil, fmt.Errorf("header tree %q: not a tree key", key)
	}
	t = Tree{Dir: s.treeDir(key), Key: key}
	unlock, err := flock.Shared(ctx, s.lockPath(key))
	if err != nil {
		return Tree{}, nil, err
	}
	if !complete(t.Dir) {
		unlock()
		return Tree{}, nil, fmt.Errorf("header tree %s: %w", key[:12], ErrNoTree)
	}
	now := time.Now()
	// The mtime of the marker is the tree's last use, for Prune.
	_ = os.Chtimes(filepath.Join(t.Dir, doneFile), now, now)
	return t, unlock, nil
}

// validKey reports whether key is a Plan.Key: 64 hex digits, so that a
// key read from a file can name nothing but a tree of the store.
func validKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, doneFile))
	return err == nil
}

// make downloads and unpacks p into t.Dir under the tree's exclusive lock.
func (s *Store) make(ctx context.Context, p Plan, t Tree) error {
	unlock, err := flock.Exclusive(ctx, s.lockPath(t.Key))
	if err != nil {
		return err
	}
	defer unlock()
	if complete(t.Dir) { // another process made it while we waited
		return nil
	}
	// Between the download and the unpack the packages must stay: Prune
	// leaves debs/ alone while any tree is being made.
	unpacking, err := flock.Shared(ctx, s.packagesLockPath())
	if err != nil {
		return err
	}
	defer unpacking()
	debs := make([]string, len(p.Unpack))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.downloads)
	for i, pkg := range p.Unpack {
		g.Go(func() error {
			path, err := s.dl.Download(gctx, pkg)
			if err != nil {
				return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
			}
			debs[i] = path
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Unpack beside the final place and rename, so that a killed process
	// leaves a temporary directory (removed by the next one) and never a
	// half tree under the key.
	tmp := t.Dir + ".tmp"
	if err := removeAll(tmp); err != nil {
		return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
	}
	if err := removeAll(t.Dir); err != nil {
		return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
	}
	// Unpack the packages in parallel: decompressing takes a core each.
	x := debian.NewExtractor(tmp)
	x.Skip = skipper(p.SrcArch())
	g, gctx = errgroup.WithContext(ctx)
	for _, deb := range debs {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := x.Extract(deb); err != nil {
				return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		_ = removeAll(tmp)
		return err
	}
	if err := writeDone(tmp, p); err != nil {
		_ = removeAll(tmp)
		return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
	}
	if err := os.Rename(tmp, t.Dir); err != nil {
		_ = removeAll(tmp)
		return fmt.Errorf("making header tree %s: %w", t.Key[:12], err)
	}
	return nil
}

// writeDone lists the tree's packages in its marker.
func writeDone(dir string, p Plan) error {
	f, err := os.Create(filepath.Join(dir, doneFile))
	if err != nil {
		return err
	}
	for _, pkg := range p.Unpack {
		fmt.Fprintf(f, "%s %s %s\n", pkg.Name, pkg.Version, pkg.SHA256)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RemoveDir removes a tree moved out of a store as the store removes its
// own: read-only directories are made writable first.
func RemoveDir(dir string) error { return removeAll(dir) }

// removeAll removes a tree, making read-only directories writable first.
func removeAll(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// Has reports whether the store holds the complete tree of key.
func (s *Store) Has(key string) bool {
	return validKey(key) && complete(s.treeDir(key))
}
