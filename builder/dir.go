package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// DirPublisher stores modules in a directory: DIR/ARCH/KERNEL/MODULE.ko with
// MODULE.log (the build's output) and MODULE.json (the key, digest, size,
// target and builder image) beside it. A module is "had" when its JSON
// record carries the same key and its log is there: a farm that skips it
// can still hand out the log, for the W=1 warning check among others.
type DirPublisher struct {
	dir string
}

var _ Publisher = (*DirPublisher)(nil)

// NewDirPublisher returns a publisher writing under dir (created on demand).
func NewDirPublisher(dir string) (*DirPublisher, error) {
	if dir == "" {
		return nil, errors.New("dir publisher: empty directory")
	}
	return &DirPublisher{dir: dir}, nil
}

// DirRecord is the JSON record written beside each module.
type DirRecord struct {
	// Key is the module's content key; KeyDigest its hash.
	Key       Key    `json:"key"`
	KeyDigest string `json:"key_digest"`
	// Digest is "sha256:HEX" of the .ko; Size its length.
	Digest string `json:"digest"`
	Size   int    `json:"size"`
	// Group and Distro name the target's group and distribution.
	Group  string `json:"group"`
	Distro string `json:"distro"`
	// BuilderImage is the headers image it was built in.
	BuilderImage string `json:"builder_image"`
	// BaseImage is what that image was made from (Module.BaseImage).
	BaseImage string `json:"base_image,omitempty"`
	// Created is when the build finished.
	Created time.Time `json:"created"`
}

// Path is where the module for key lives (whether or not it exists).
func (p *DirPublisher) Path(key Key) string {
	return filepath.Join(p.dir, key.Arch, key.Kernel, key.Module+".ko")
}

func (p *DirPublisher) recordPath(key Key) string {
	return strings.TrimSuffix(p.Path(key), ".ko") + ".json"
}

func (p *DirPublisher) logPath(key Key) string {
	return strings.TrimSuffix(p.Path(key), ".ko") + ".log"
}

// BuildLog returns the build output kept with key's module. Call it for a
// key Has reported.
func (p *DirPublisher) BuildLog(_ context.Context, key Key) ([]byte, error) {
	if err := checkKeyPath(key); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p.logPath(key))
	if err != nil {
		return nil, fmt.Errorf("dir publisher: build log: %w", err)
	}
	return b, nil
}

// Has reports whether the module for key exists with a matching record and
// its log.
func (p *DirPublisher) Has(_ context.Context, key Key) (bool, error) {
	if err := checkKeyPath(key); err != nil {
		return false, err
	}
	b, err := os.ReadFile(p.recordPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dir publisher: %w", err)
	}
	var rec DirRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Key != key {
		return false, nil
	}
	st, err := os.Stat(p.Path(key))
	if err != nil || st.Size() != int64(rec.Size) {
		return false, nil
	}
	if _, err := os.Stat(p.logPath(key)); err != nil {
		return false, nil
	}
	return true, nil
}

// Publish writes the module, its log and then its record, each atomically:
// the record, written last, is what makes the other two count.
func (p *DirPublisher) Publish(_ context.Context, m Module) error {
	if err := checkKeyPath(m.Key); err != nil {
		return err
	}
	sum := sha256.Sum256(m.Data)
	rec := DirRecord{Key: m.Key, KeyDigest: m.Key.Digest(), Digest: "sha256:" + hex.EncodeToString(sum[:]),
		Size: len(m.Data), Group: m.Target.Group, Distro: m.Target.Distro, BuilderImage: m.BuilderImage, BaseImage: m.BaseImage, Created: m.Created}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("dir publisher: %w", err)
	}
	if m.SigningCert != nil {
		if err := writeAtomic(filepath.Join(p.dir, SigningCertFile), m.SigningCert); err != nil {
			return err
		}
	}
	if err := writeAtomic(p.Path(m.Key), m.Data); err != nil {
		return err
	}
	if err := writeAtomic(p.logPath(m.Key), m.Log); err != nil {
		return err
	}
	return writeAtomic(p.recordPath(m.Key), append(b, '\n'))
}

func checkKeyPath(k Key) error {
	for _, s := range []string{k.Arch, k.Kernel, k.Module} {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `/\`) {
			return fmt.Errorf("dir publisher: unusable path element %q", s)
		}
	}
	return nil
}

// writeAtomic creates path's directory and replaces path with data, 0644.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.Write(path, data, 0o644)
}
