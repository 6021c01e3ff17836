package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/headertree"
)

// entry is one thing Prune may remove.
type entry struct {
	kind    Kind
	name    string // in messages
	size    int64  // bytes on disk
	lastUse time.Time
	used    string // how lastUse is known, in messages

	tree string // Trees: the key
	path string // Packages: the file
	img  *imageEntry

	// keep, when set, says why the entry must stay (rule: the only copy
	// of the headers of a listed kernel).
	keep string
	// removed is set once it is removed (or would be, in a dry run);
	// settled once Prune has decided about it and said so.
	removed, settled bool
}

// imageEntry is a builder image and its place among the engine's images.
type imageEntry struct {
	id   string
	tags []string // the references it is removed by
	// children are the farm images built on it; others counts images of
	// anyone else built on it.
	children []*entry
	others   int
	depth    int // farm images below it, to remove children first
	// container is a container using it, "" for none.
	container string
}

// treeEntries lists the store's trees.
func treeEntries(s *headertree.Store) ([]*entry, error) {
	es, err := s.Entries()
	if err != nil {
		return nil, err
	}
	out := make([]*entry, 0, len(es))
	for _, e := range es {
		var size int64
		for _, p := range e.Paths {
			n, err := diskUsage(p)
			if err != nil {
				return nil, fmt.Errorf("measuring header tree %s: %w", e.Key[:12], err)
			}
			size += n
		}
		name := e.Key[:12] + " (" + strings.Join(e.Packages, ", ") + ")"
		used := "last used " + day(e.LastUse)
		if !e.Complete {
			name, used = e.Key[:12], "left half made by a build that was killed"
		}
		out = append(out, &entry{kind: Trees, name: name, size: size, lastUse: e.LastUse, used: used, tree: e.Key})
	}
	return out, nil
}

// packageEntries lists the downloaded packages, CACHE/debs/*.deb. The
// packages of debootstrap's own cache (debs/debootstrap/) are not: it reads
// them while it makes a base image, which Prune cannot see.
func packageEntries(cacheDir string) ([]*entry, error) {
	dir := filepath.Join(cacheDir, "debs")
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing downloaded packages: %w", err)
	}
	var out []*entry
	for _, de := range des {
		if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), ".deb") || strings.HasPrefix(de.Name(), ".") {
			continue // debootstrap's directory, a download in progress
		}
		p := filepath.Join(dir, de.Name())
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing downloaded packages: %w", err)
		}
		out = append(out, &entry{kind: Packages, name: de.Name(), size: blocks(fi), lastUse: fi.ModTime(),
			used: "last used " + day(fi.ModTime()), path: p})
	}
	return out, nil
}

// imageEntries lists the engine's builder images (label dev.dnsmon.farm=1)
// with a tag. An image's last use is the one the farm of this cache
// directory recorded, or else when it was made; an image that others are
// built on counts as used when the last of them was, so that Prune removes
// children before their parents.
func imageEntries(ctx context.Context, e Engine, cacheDir string) ([]*entry, error) {
	all, err := e.ImageList(ctx, image.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	cs, err := e.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	usedBy := map[string]string{}
	for _, c := range cs {
		if _, ok := usedBy[c.ImageID]; !ok {
			usedBy[c.ImageID] = c.ID
		}
	}
	sizes := map[string]int64{}
	for _, s := range all {
		sizes[s.ID] = s.Size
	}
	byID := map[string]*entry{}
	var out []*entry
	for _, s := range all {
		if s.Labels[builder.LabelFarm] != "1" || len(s.RepoTags) == 0 || slices.Contains(s.RepoTags, "<none>:<none>") {
			continue // not the farm's, or dangling
		}
		size := s.Size
		if ps, ok := sizes[s.ParentID]; ok && s.ParentID != "" {
			size -= ps // the layers it adds to its parent
		}
		ie := &imageEntry{id: s.ID, tags: slices.Clone(s.RepoTags), container: usedBy[s.ID]}
		slices.Sort(ie.tags)
		en := &entry{kind: Images, name: strings.Join(ie.tags, ", "), size: max(size, 0), img: ie}
		last, ok := time.Time{}, false
		for _, t := range ie.tags {
			if l, found := builder.ImageLastUse(cacheDir, t); found && l.After(last) {
				last, ok = l, true
			}
		}
		if ok {
			en.lastUse, en.used = last, "last used "+day(last)
		} else {
			en.lastUse = time.Unix(s.Created, 0)
			en.used = "made " + day(en.lastUse) + ", no use recorded"
		}
		byID[s.ID] = en
		out = append(out, en)
	}
	for _, s := range all {
		parent, ok := byID[s.ParentID]
		if !ok || s.ParentID == "" {
			continue
		}
		if child, farm := byID[s.ID]; farm {
			parent.img.children = append(parent.img.children, child)
		} else {
			parent.img.others++
		}
	}
	for _, en := range out {
		settleImage(en)
	}
	return out, nil
}

// settleImage moves en's last use to its children's latest and sets its
// depth, children first.
func settleImage(en *entry) {
	if en.img.depth > 0 {
		return
	}
	for _, c := range en.img.children {
		settleImage(c)
		if c.lastUse.After(en.lastUse) {
			en.lastUse = c.lastUse
			en.used = c.used + " (" + c.name + ", built on it)"
		}
		en.img.depth = max(en.img.depth, c.img.depth+1)
	}
	// An image nothing is built on has depth 1, so 0 means not settled.
	en.img.depth = max(en.img.depth, 1)
}

// diskUsage is the disk space of the files below path, each inode once,
// as du counts it.
func diskUsage(path string) (int64, error) {
	seen := map[uint64]bool{}
	var n int64
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[uint64(st.Ino)] {
				return nil
			}
			seen[uint64(st.Ino)] = true
		}
		n += blocks(fi)
		return nil
	})
	return n, err
}

// blocks is the disk space a file takes: its allocated blocks where the
// system says, else its length.
func blocks(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}

func day(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }
