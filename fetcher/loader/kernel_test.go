package loader

import (
	"bytes"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMemfd checks what finit_module needs from a decompressed module: the
// whole content, sealed, behind a descriptor that cannot write (so that
// kernel_read_file does not refuse it with ETXTBSY).
func TestMemfd(t *testing.T) {
	data := bytes.Repeat([]byte("module "), 1000)
	var src bytes.Buffer
	src.Write(data)
	f, err := os.CreateTemp(t.TempDir(), "m")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Seek(0, 0)
	m, _, err := decompressToMemfd(t.Context(), f, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.f.Close()
	if m.size != int64(len(data)) {
		t.Errorf("size = %d, want %d", m.size, len(data))
	}
	got, err := io.ReadAll(io.NewSectionReader(m.f, 0, m.size))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("memfd content: %d bytes, %v", len(got), err)
	}
	fl, err := unix.FcntlInt(m.f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fl&unix.O_ACCMODE != unix.O_RDONLY {
		t.Errorf("memfd open flags %#o, want read-only", fl)
	}
	seals, err := unix.FcntlInt(m.f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE; seals&want != want {
		t.Errorf("seals %#x, want %#x", seals, want)
	}
	if _, err := m.f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("memfd is writable")
	}
}

// TestReadOnlyTempFile covers the fallback for kernels without memfd_create:
// an unlinked temporary file, reopened read-only.
func TestReadOnlyTempFile(t *testing.T) {
	w, err := os.CreateTemp(t.TempDir(), "dnsmon.ko.*")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(w.Name())
	w.WriteString("module")
	r, err := sealReadOnly(w, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := make([]byte, 6)
	if _, err := r.ReadAt(b, 0); err != nil || string(b) != "module" {
		t.Errorf("read back %q, %v", b, err)
	}
	if _, err := r.WriteAt([]byte("x"), 0); err == nil {
		t.Error("file is writable")
	}
}
