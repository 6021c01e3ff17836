package headertree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder/internal/flock"
)

// TestStoreRemove removes a tree only while no build holds it, and what
// a killed build left half made.
func TestStoreRemove(t *testing.T) {
	m, c := testMirror(t)
	p := mirrorPlan(t, m, c)
	dir := t.TempDir()
	s := NewStore(dir, c)
	tree, release, err := s.Use(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(tree.Key); !errors.Is(err, ErrBusy) {
		t.Errorf("Check of a tree in use: %v, want ErrBusy", err)
	}
	if err := s.Remove(tree.Key); !errors.Is(err, ErrBusy) {
		t.Errorf("Remove of a tree in use: %v, want ErrBusy", err)
	}
	release()

	// A half tree that a killed process left beside it.
	if err := os.MkdirAll(tree.Dir+".tmp/usr", 0o555); err != nil {
		t.Fatal(err)
	}
	es, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || !es[0].Complete || len(es[0].Paths) != 2 || es[0].LastUse.IsZero() ||
		!slices.Equal(es[0].Packages, []string{"linux-headers-9.9.9-amd64 9.9.9-1", "linux-kbuild-9.9 9.9.9-1"}) {
		t.Fatalf("Entries: %+v", es)
	}
	if err := s.Check(tree.Key); err != nil {
		t.Fatalf("Check of a free tree: %v", err)
	}
	if err := s.Remove(tree.Key); err != nil {
		t.Fatal(err)
	}
	if es, err := s.Entries(); err != nil || len(es) != 0 {
		t.Fatalf("Entries after Remove: %+v, %v", es, err)
	}
	if s.Has(tree.Key) {
		t.Error("Has after Remove")
	}
	if _, _, err := s.UseKey(t.Context(), tree.Key); !errors.Is(err, ErrNoTree) {
		t.Errorf("UseKey after Remove: %v, want ErrNoTree", err)
	}
	// Use makes it again.
	if _, release, err := s.Use(t.Context(), p); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	if !s.Has(tree.Key) {
		t.Error("the tree was not made again")
	}
}

// TestStoreOrigin records which tree an origin resolved to, and forgets
// the records of removed trees.
func TestStoreOrigin(t *testing.T) {
	m, c := testMirror(t)
	p := mirrorPlan(t, m, c)
	s := NewStore(t.TempDir(), c)
	o := Origin{Indexes: []string{m.URL + " bookworm main (amd64)"}, Roots: []string{"linux-headers-9.9.9-amd64"}}
	other := Origin{Indexes: o.Indexes, Roots: []string{"linux-headers-9.9.8-amd64"}}
	if o.ID() == other.ID() || len(o.ID()) != 64 {
		t.Fatalf("origin IDs %s %s", o.ID(), other.ID())
	}
	if _, ok, err := s.LookupOrigin(o); ok || err != nil {
		t.Fatalf("LookupOrigin before any record: %v %v", ok, err)
	}
	if _, release, err := s.Use(t.Context(), p); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	if err := s.RecordOrigin(o, p); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := s.LookupOrigin(o)
	if err != nil || !ok || rec.Tree != p.Key() || !slices.Equal(rec.Install, p.Install) {
		t.Fatalf("LookupOrigin: %+v %v %v, want tree %s install %q", rec, ok, err, p.Key(), p.Install)
	}
	if n, err := s.ForgetRemoved(); n != 0 || err != nil {
		t.Errorf("ForgetRemoved with the tree there: %d %v", n, err)
	}
	if err := s.Remove(p.Key()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ForgetRemoved(); n != 1 || err != nil {
		t.Errorf("ForgetRemoved after Remove: %d %v, want 1", n, err)
	}
	if _, ok, _ := s.LookupOrigin(o); ok {
		t.Error("the record of a removed tree stays")
	}
}

// TestHoldPackages: no packages are removed while a tree is being made.
func TestHoldPackages(t *testing.T) {
	s := NewStore(t.TempDir(), nil)
	unlock, err := flock.Shared(t.Context(), s.packagesLockPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.HoldPackages(); !errors.Is(err, ErrBusy) {
		t.Errorf("HoldPackages while a tree is made: %v, want ErrBusy", err)
	}
	unlock()
	release, err := s.HoldPackages()
	if err != nil {
		t.Fatal(err)
	}
	// A tree to be made now waits for the hold.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := flock.Shared(ctx, s.packagesLockPath()); err == nil {
		t.Error("a tree could start while the packages are held")
	}
	release()
	if _, err := os.Stat(filepath.Join(s.dir, "packages.lock")); err != nil {
		t.Error(err)
	}
}
