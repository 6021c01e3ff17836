package headertree

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Bind is one read-only bind mount of a tree into a build container.
type Bind struct {
	Source string // below Tree.Dir
	Target string // in the container
}

// Binds returns the mounts that put the tree where its packages would have
// installed it: each entry of usr/src and usr/lib at the same place, and
// each entry of lib under /usr/lib, as on a merged-/usr system. The header
// trees' relative symlinks (…/scripts → ../../lib/linux-kbuild-6.1/scripts)
// resolve there. Nothing else of the packages (documentation) is needed to
// build.
func (t Tree) Binds() ([]Bind, error) {
	var out []Bind
	seen := map[string]bool{}
	for _, d := range []struct{ from, to string }{
		{"usr/src", "/usr/src"},
		{"usr/lib", "/usr/lib"},
		{"lib", "/usr/lib"},
	} {
		entries, err := os.ReadDir(filepath.Join(t.Dir, d.from))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing header tree %s: %w", t.Key[:12], err)
		}
		for _, e := range entries {
			target := d.to + "/" + e.Name()
			if seen[target] {
				continue
			}
			seen[target] = true
			out = append(out, Bind{Source: filepath.Join(t.Dir, d.from, e.Name()), Target: target})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("header tree %s has nothing under usr/src, usr/lib or lib", t.Key[:12])
	}
	slices.SortFunc(out, func(a, b Bind) int {
		switch {
		case a.Target < b.Target:
			return -1
		case a.Target > b.Target:
			return 1
		}
		return 0
	})
	return out, nil
}
