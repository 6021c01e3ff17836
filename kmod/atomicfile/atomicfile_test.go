package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWriteFunc(t *testing.T) {
	errFill := errors.New("digest mismatch")
	stamp := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		old      string // content before the write; "" means no file
		fill     func(io.Writer) error
		perm     os.FileMode
		opts     []Option
		wantErr  error
		want     string // content after
		wantTime time.Time
	}{
		"new file": {
			fill: write("new"), perm: 0o644, want: "new",
		},
		"replaced whole": {
			old: "a much longer old content", fill: write("new"), perm: 0o644, want: "new",
		},
		"private": {
			fill: write("key"), perm: 0o600, want: "key",
		},
		"executable": {
			fill: write("#!/bin/sh\n"), perm: 0o755, want: "#!/bin/sh\n",
		},
		"fill fails, old kept": {
			old: "old", fill: func(w io.Writer) error { w.Write([]byte("half")); return errFill }, perm: 0o644,
			wantErr: errFill, want: "old",
		},
		"fill fails, nothing made": {
			fill: func(io.Writer) error { return errFill }, perm: 0o644, wantErr: errFill,
		},
		"stamped": {
			fill: write("index"), perm: 0o644, opts: []Option{WithModTime(stamp)}, want: "index", wantTime: stamp,
		},
	}
	// The umask must not narrow perm.
	defer syscall.Umask(syscall.Umask(0o077))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, 0o644); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			err := WriteFunc(path, tc.perm, tc.fill, tc.opts...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("WriteFunc: %v, want %v", err, tc.wantErr)
			}
			assertOnly(t, dir, tc.old != "" || tc.wantErr == nil)
			got, err := os.ReadFile(path)
			if tc.want == "" {
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s: %q, %v; want no file", path, got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("%s: %q, %v; want %q", path, got, err, tc.want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			wantPerm := tc.perm
			if tc.wantErr != nil {
				wantPerm = 0o644 // the old file's
			}
			if fi.Mode().Perm() != wantPerm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), wantPerm)
			}
			if !tc.wantTime.IsZero() && !fi.ModTime().Equal(tc.wantTime) {
				t.Errorf("mtime %v, want %v", fi.ModTime(), tc.wantTime)
			}
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "f")
	if err := Write(path, []byte("x"), 0o644); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Write into a missing directory: %v, want ErrNotExist", err)
	}
}

func TestSymlink(t *testing.T) {
	tests := map[string]struct {
		old string // what name is before: "", "file", "link"
	}{
		"new":         {},
		"over a file": {old: "file"},
		"over a link": {old: "link"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			link := filepath.Join(dir, "l")
			switch tc.old {
			case "file":
				if err := os.WriteFile(link, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			case "link":
				if err := os.Symlink("elsewhere", link); err != nil {
					t.Fatal(err)
				}
			}
			if err := Symlink("target", link); err != nil {
				t.Fatal(err)
			}
			if got, err := os.Readlink(link); err != nil || got != "target" {
				t.Fatalf("Readlink: %q, %v; want target", got, err)
			}
			assertOnly(t, dir, true)
		})
	}
}

// write is a fill that writes s.
func write(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// assertOnly checks that dir holds the one entry a write leaves (or none):
// no temporary file survives, whether the write worked or not.
func assertOnly(t *testing.T, dir string, one bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	if one {
		want = 1
	}
	if len(ents) != want {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want %d entry", names, want)
	}
}
