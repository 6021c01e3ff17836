package bench

import (
	"fmt"
	"io/fs"
	"testing/fstest"
)

// ChangedSource returns a copy of src in which file ends with one more
// comment line holding note: the same module, a different source digest,
// so the farm's cache misses and every target is rebuilt.
func ChangedSource(src fs.FS, file, note string) (fs.FS, error) {
	out := fstest.MapFS{}
	found := false
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		if p == file {
			found = true
			data = append(append([]byte(nil), data...), fmt.Sprintf("/* %s */\n", note)...)
		}
		out[p] = &fstest.MapFile{Data: data, Mode: 0o644}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copying the module source: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("changing the module source: no file %q", file)
	}
	return out, nil
}
