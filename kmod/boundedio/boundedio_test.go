package boundedio

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAll(t *testing.T) {
	errRead := errors.New("connection reset")
	tests := map[string]struct {
		in      string
		max     int64
		want    string
		wantErr error
	}{
		"empty":          {in: "", max: 4, want: ""},
		"under the cap":  {in: "abc", max: 4, want: "abc"},
		"at the cap":     {in: "abcd", max: 4, want: "abcd"},
		"one over":       {in: "abcde", max: 4, wantErr: ErrTooLarge},
		"far over":       {in: strings.Repeat("x", 1<<20), max: 4, wantErr: ErrTooLarge},
		"zero cap":       {in: "", max: 0, want: ""},
		"zero cap, over": {in: "a", max: 0, wantErr: ErrTooLarge},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadAll(strings.NewReader(tc.in), tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadAll: %v, want %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("ReadAll: %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		if _, err := ReadAll(iotest.ErrReader(errRead), 4); !errors.Is(err, errRead) {
			t.Errorf("ReadAll: %v, want %v", err, errRead)
		}
	})
	t.Run("negative cap", func(t *testing.T) {
		if _, err := ReadAll(strings.NewReader(""), -1); err == nil {
			t.Error("ReadAll with a negative cap: no error")
		}
	})
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		name    string
		max     int64
		want    string
		wantErr error
	}{
		"fits":    {name: small, max: 5, want: "small"},
		"too big": {name: small, max: 4, wantErr: ErrTooLarge},
		"missing": {name: filepath.Join(dir, "none"), max: 4, wantErr: fs.ErrNotExist},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadFile(tc.name, tc.max)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadFile: %v, want %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("ReadFile: %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeJSONFile(t *testing.T) {
	type doc struct {
		A string `json:"a"`
	}
	tests := map[string]struct {
		content    string // "" for no file
		want       doc
		wantErr    error
		wantDecode bool // a *DecodeError
	}{
		"missing":     {want: doc{A: "before"}},
		"fits":        {content: `{"a": "x"}`, want: doc{A: "x"}},
		"unknown key": {content: `{"a": "x", "b": 1}`, wantDecode: true},
		"not JSON":    {content: `a = x`, wantDecode: true},
		"too large":   {content: `{"a": "` + strings.Repeat("x", 64) + `"}`, wantErr: ErrTooLarge},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "doc.json")
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := doc{A: "before"}
			err := DecodeJSONFile(path, 32, &got)
			var de *DecodeError
			if errors.As(err, &de) != tc.wantDecode || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) ||
				(err == nil) != (tc.wantErr == nil && !tc.wantDecode) {
				t.Fatalf("DecodeJSONFile: %v, want %v (a *DecodeError: %v)", err, tc.wantErr, tc.wantDecode)
			}
			if de != nil && (de.Path != path || de.Error() != de.Err.Error()) {
				t.Errorf("DecodeError %+v: want the path and the decoder's text", de)
			}
			if err == nil && got != tc.want {
				t.Errorf("DecodeJSONFile: %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewReadCloser(t *testing.T) {
	tests := map[string]struct {
		in      string
		max     int64
		wantErr error
	}{
		"empty":          {in: "", max: 4},
		"under the cap":  {in: "abc", max: 4},
		"at the cap":     {in: "abcd", max: 4},
		"one over":       {in: "abcde", max: 4, wantErr: ErrTooLarge},
		"far over":       {in: strings.Repeat("x", 1<<20), max: 4, wantErr: ErrTooLarge},
		"zero cap, over": {in: "a", max: 0, wantErr: ErrTooLarge},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// One byte a read, so the cap is met at every read boundary.
			rc := NewReadCloser(io.NopCloser(iotest.OneByteReader(strings.NewReader(tc.in))), tc.max)
			got, err := io.ReadAll(rc)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("read: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && string(got) != tc.in {
				t.Errorf("read %q, want %q", got, tc.in)
			}
			if int64(len(got)) > tc.max {
				t.Errorf("read %d bytes past a cap of %d", len(got), tc.max)
			}
		})
	}
}
