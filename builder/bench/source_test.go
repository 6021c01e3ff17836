package bench

import (
	"bytes"
	"io/fs"
	"testing"
	"testing/fstest"
)

func TestChangedSource(t *testing.T) {
	src := fstest.MapFS{"a.c": {Data: []byte("int a;\n")}, "sub/b.h": {Data: []byte("#define B\n")}}
	for name, c := range map[string]struct {
		file    string
		wantErr bool
		wantA   string
	}{
		"changes one file": {"a.c", false, "int a;\n/* run 1 */\n"},
		"missing file":     {"nope.c", true, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ChangedSource(src, c.file, "run 1")
			if (err != nil) != c.wantErr {
				t.Fatalf("ChangedSource error = %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			a, _ := fs.ReadFile(got, "a.c")
			b, _ := fs.ReadFile(got, "sub/b.h")
			if string(a) != c.wantA || !bytes.Equal(b, src["sub/b.h"].Data) {
				t.Errorf("got a.c %q, sub/b.h %q", a, b)
			}
		})
	}
}
