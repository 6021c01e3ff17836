package e2e

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// File modes of cpio entries (the S_IF* bits of stat(2)).
const (
	modeDir     = 0o040000
	modeReg     = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
)

// cpioWriter writes a cpio archive in the "newc" format (magic 070701), the
// one the kernel unpacks into its initial rootfs.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func newCpioWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w, ino: 1} }

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func pad4(n int) int { return (4 - n%4) % 4 }

// entry writes one header, its name and its data with newc's 4-byte padding.
func (c *cpioWriter) entry(name string, mode uint32, data []byte, rdevMajor, rdevMinor uint32) error {
	if c.err != nil {
		return c.err
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || strings.Contains(name, "\x00") {
		return fmt.Errorf("bad cpio entry name %q", name)
	}
	nlink := 1
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.ino++
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.write(make([]byte, pad4(len(hdr)+len(name)+1)))
	c.write(data)
	c.write(make([]byte, pad4(len(data))))
	if c.err != nil {
		return fmt.Errorf("writing cpio entry %q: %w", name, c.err)
	}
	return nil
}

// Dir adds a directory.
func (c *cpioWriter) Dir(name string, perm uint32) error {
	return c.entry(name, modeDir|perm&0o7777, nil, 0, 0)
}

// File adds a regular file.
func (c *cpioWriter) File(name string, perm uint32, data []byte) error {
	return c.entry(name, modeReg|perm&0o7777, data, 0, 0)
}

// Symlink adds a symbolic link to target.
func (c *cpioWriter) Symlink(name, target string) error {
	return c.entry(name, modeSymlink|0o777, []byte(target), 0, 0)
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) error {
	return c.entry(name, modeChar|perm&0o7777, nil, major, minor)
}

// Close writes the trailer.
func (c *cpioWriter) Close() error {
	if err := c.entry("TRAILER!!!", 0, nil, 0, 0); err != nil {
		return err
	}
	if c.err != nil {
		return errors.Join(errors.New("closing cpio archive"), c.err)
	}
	return nil
}
