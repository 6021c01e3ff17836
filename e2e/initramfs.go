package e2e

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// InitramfsFile is one file of an initramfs.
type InitramfsFile struct {
	// Path inside the guest, e.g. "/bin/dnsmon-load".
	Path string
	// Source is a file on the host to copy; Data is used when Source is "".
	Source string
	Data   []byte
	// Mode is the permission bits, e.g. 0o755.
	Mode uint32
}

// WriteInitramfs writes an uncompressed newc cpio archive holding files,
// their parent directories, and /dev, /proc, /sys, /tmp, /run. The kernel
// unpacks it without any decompressor. Directories come before their
// contents, in a stable order.
func WriteInitramfs(dest string, files []InitramfsFile) (err error) {
	f, err := os.Create(dest)
	if err != nil {
		return fmt.Errorf("creating initramfs %q: %w", dest, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing initramfs %q: %w", dest, cerr)
		}
	}()
	dirs := map[string]bool{"dev": true, "proc": true, "sys": true, "tmp": true, "run": true, "bin": true}
	for _, fl := range files {
		for d := path.Dir(strings.TrimPrefix(path.Clean("/"+fl.Path), "/")); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names) // parents sort before children
	w := newCpioWriter(f)
	for _, d := range names {
		perm := uint32(0o755)
		if d == "tmp" {
			perm = 0o1777
		}
		if err := w.Dir(d, perm); err != nil {
			return err
		}
	}
	// The kernel opens /dev/console for init's stdio before init runs.
	if err := w.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	for _, fl := range files {
		data := fl.Data
		if fl.Source != "" {
			data, err = os.ReadFile(fl.Source)
			if err != nil {
				return fmt.Errorf("reading %q for the initramfs: %w", fl.Source, err)
			}
		}
		mode := fl.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := w.File(path.Clean("/"+fl.Path), mode, data); err != nil {
			return err
		}
	}
	return w.Close()
}
