package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteVarsWithDB(t *testing.T) {
	dir := t.TempDir()
	certA, certB := bytes.Repeat([]byte{0x30, 0xa5}, 400), bytes.Repeat([]byte{0x30, 0x5a}, 333)
	first := filepath.Join(dir, "first.fd")
	second := filepath.Join(dir, "second.fd")
	tests := map[string]struct {
		src, dest string
		certs     [][]byte
	}{
		"one cert":         {OVMFVars, first, [][]byte{certA}},
		"replace, two":     {first, second, [][]byte{certB, certA}},
		"replace in place": {second, second, [][]byte{certA}},
	}
	for _, name := range []string{"one cert", "replace, two", "replace in place"} {
		tc := tests[name]
		t.Run(name, func(t *testing.T) {
			if err := WriteVarsWithDB(tc.src, tc.dest, tc.certs, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			got, err := DBCerts(tc.dest)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.certs) {
				t.Fatalf("db holds %d certificates, want %d", len(got), len(tc.certs))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.certs[i]) {
					t.Errorf("certificate %d differs", i)
				}
			}
			orig, _ := os.ReadFile(OVMFVars)
			out, _ := os.ReadFile(tc.dest)
			if len(out) != len(orig) || !bytes.Equal(out[:0x48], orig[:0x48]) {
				t.Errorf("size or firmware volume header changed")
			}
		})
	}
	bad := filepath.Join(dir, "bad.fd")
	if err := os.WriteFile(bad, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteVarsWithDB(bad, filepath.Join(dir, "x.fd"), [][]byte{certA}, time.Now()); err == nil {
		t.Error("a file of zeros was taken for a variable store")
	}
	if err := WriteVarsWithDB(OVMFVars, filepath.Join(dir, "big.fd"), [][]byte{make([]byte, 600<<10)}, time.Now()); err == nil {
		t.Error("a db larger than the store was written")
	}
}

func TestParseGUID(t *testing.T) {
	g, err := ParseGUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f}
	if !bytes.Equal(g[:], want) {
		t.Errorf("ParseGUID = %x, want %x", g, want)
	}
	for _, s := range []string{"", "d719b2cb3d3a4596a3bcdad00e67656f", "zz19b2cb-3d3a-4596-a3bc-dad00e67656f"} {
		if _, err := ParseGUID(s); err == nil {
			t.Errorf("ParseGUID(%q) accepted", s)
		}
	}
}
