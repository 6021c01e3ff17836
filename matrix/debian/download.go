package debian

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// DigestError reports a file whose size or SHA256 is not what the index says.
type DigestError struct {
	Want, Got         string
	WantSize, GotSize int64
}

func (e *DigestError) Error() string {
	if e.WantSize != e.GotSize {
		return fmt.Sprintf("size mismatch: index says %d bytes, got %d", e.WantSize, e.GotSize)
	}
	return fmt.Sprintf("sha256 mismatch: index says %s, got %s", e.Want, e.Got)
}

// Download stores the package's .deb under CACHE/debs and returns its path.
// A file already there with the index's size and SHA256 is reused; anything
// else is downloaded to a temporary file, verified while it is written, and
// renamed into place. Either way the file's mtime is then its last use,
// which is what dnsmon-farm prune goes by.
func (c *Client) Download(ctx context.Context, p Package) (string, error) {
	if p.Filename == "" || p.BaseURL == "" || p.SHA256 == "" {
		return "", fmt.Errorf("downloading %q: package has no Filename, mirror or SHA256", p.Name)
	}
	base := path.Base(p.Filename)
	if base == "." || base == "/" || strings.HasPrefix(base, ".") {
		return "", fmt.Errorf("downloading %q: bad Filename %q", p.Name, p.Filename)
	}
	dest := filepath.Join(c.cacheDir, "debs", base)
	if ok, err := fileMatches(dest, p.Size, p.SHA256); err != nil {
		return "", fmt.Errorf("checking cached %q: %w", dest, err)
	} else if ok {
		// Stamped as a fresh download is; only prune's order depends on it.
		now := time.Now()
		_ = os.Chtimes(dest, now, now)
		return dest, nil
	}
	url := strings.TrimRight(p.BaseURL, "/") + "/" + strings.TrimLeft(p.Filename, "/")
	if err := c.fetchFile(ctx, url, dest, p.Size, p.SHA256); err != nil {
		return "", fmt.Errorf("downloading %q: %w", p.Name, err)
	}
	return dest, nil
}

func fileMatches(path string, size int64, sha string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() != size {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == sha, nil
}

// writeVerified writes r to dest atomically. With size >= 0 it reads at
// most size+1 bytes and checks the size and the SHA256 before the rename.
func writeVerified(dest string, r io.Reader, size int64, sha string) error {
	return writeAtomic(dest, time.Time{}, func(w io.Writer) error {
		h := sha256.New()
		if size >= 0 {
			r = io.LimitReader(r, size+1)
		}
		n, err := io.Copy(io.MultiWriter(w, h), r)
		if err != nil {
			return err
		}
		if size >= 0 {
			got := hex.EncodeToString(h.Sum(nil))
			if n != size || (sha != "" && got != sha) {
				return &DigestError{Want: sha, Got: got, WantSize: size, GotSize: n}
			}
		}
		return nil
	})
}

// writeAtomic creates dest's directory and replaces dest with what fill
// writes, stamped with mtime (unless zero); see atomicfile.WriteFunc. The
// cache's files stay 0600, as they have always been.
func writeAtomic(dest string, mtime time.Time, fill func(w io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFunc(dest, 0o600, fill, atomicfile.WithModTime(mtime))
}
