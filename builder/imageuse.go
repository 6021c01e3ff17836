package builder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ImageUseDir, in the cache directory, holds one empty file per builder
// image the farm has used, named after the image's reference; its mtime is
// the image's last use. The engine records when an image was made but not
// when it was last used, and prune removes the least recently used first.
const ImageUseDir = "image-use"

// ImageUsePath is the file whose mtime is image ref's last use.
func ImageUsePath(cacheDir, ref string) string {
	return filepath.Join(cacheDir, ImageUseDir, tagSafe(ref))
}

// ImageLastUse returns image ref's last use; ok is false when the farm of
// this cache directory never recorded one.
func ImageLastUse(cacheDir, ref string) (last time.Time, ok bool) {
	fi, err := os.Stat(ImageUsePath(cacheDir, ref))
	if err != nil {
		return time.Time{}, false
	}
	return fi.ModTime(), true
}

// markImageUsed records that image ref is used now. A record that cannot
// be written only makes the image look older to prune, which then removes
// it sooner and the next build makes it again, so a failure is not the
// build's.
func markImageUsed(cacheDir, ref string) {
	p := ImageUsePath(cacheDir, ref)
	now := time.Now()
	err := os.Chtimes(p, now, now)
	if !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.Close()
	}
}
