package hostopt

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

type testOptions struct {
	Logger
	SizeCap
	calls []string
}

type testOption func(*testOptions) error

func call(name string, err error) testOption {
	return func(o *testOptions) error {
		o.calls = append(o.calls, name)
		return err
	}
}

func TestApply(t *testing.T) {
	errBad := errors.New("bad")
	tests := map[string]struct {
		opts      []testOption
		wantCalls []string
		wantErr   error
	}{
		"none":           {},
		"in order":       {opts: []testOption{call("a", nil), call("b", nil)}, wantCalls: []string{"a", "b"}},
		"stops at error": {opts: []testOption{call("a", errBad), call("b", nil)}, wantCalls: []string{"a"}, wantErr: errBad},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := &testOptions{}
			got, err := Apply(o, tc.opts)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Apply: %v, want %v", err, tc.wantErr)
			}
			if (err == nil) != (got == o) {
				t.Errorf("Apply returned %p with error %v; want the options on success, nil on error", got, err)
			}
			if len(o.calls) != len(tc.wantCalls) {
				t.Fatalf("calls %q, want %q", o.calls, tc.wantCalls)
			}
			for i := range o.calls {
				if o.calls[i] != tc.wantCalls[i] {
					t.Errorf("calls %q, want %q", o.calls, tc.wantCalls)
				}
			}
		})
	}
}

func TestSetLogger(t *testing.T) {
	var buf bytes.Buffer
	tests := map[string]struct {
		w    io.Writer
		want io.Writer
	}{
		"writer": {w: &buf, want: &buf},
		"nil":    {w: nil, want: io.Discard},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var l Logger
			if err := l.SetLogger(tc.w); err != nil {
				t.Fatal(err)
			}
			if l.Log != tc.want {
				t.Errorf("Log = %v, want %v", l.Log, tc.want)
			}
		})
	}
}

func TestSetMaxSize(t *testing.T) {
	tests := map[string]struct {
		n       int64
		wantErr bool
	}{
		"positive": {n: 1 << 20},
		"one":      {n: 1},
		"zero":     {n: 0, wantErr: true},
		"negative": {n: -1, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := SizeCap{MaxSize: 7}
			err := c.SetMaxSize(tc.n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SetMaxSize(%d): %v, want error %v", tc.n, err, tc.wantErr)
			}
			want := tc.n
			if tc.wantErr {
				want = 7 // unchanged
			}
			if c.MaxSize != want {
				t.Errorf("MaxSize = %d, want %d", c.MaxSize, want)
			}
		})
	}
}

func TestSetFS(t *testing.T) {
	root := fstest.MapFS{"proc/modules": {Data: []byte("")}}
	tests := map[string]struct {
		fsys    fs.FS
		wantErr bool
	}{
		"a view": {fsys: root},
		"nil":    {fsys: nil, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var r RootFS
			err := r.SetFS(tc.fsys)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SetFS: %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && r.FS == nil {
				t.Error("FS not set")
			}
		})
	}
}

func TestNonEmpty(t *testing.T) {
	tests := map[string]struct {
		v       string
		want    string
		wantErr string
	}{
		"set":   {v: "/srv/root", want: "/srv/root"},
		"empty": {v: "", want: "before", wantErr: "WithRoot: empty directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dst := "before"
			err := NonEmpty(&dst, tc.v, "WithRoot", "directory")
			if (err != nil) != (tc.wantErr != "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("NonEmpty(%q): %v, want %q", tc.v, err, tc.wantErr)
			}
			if dst != tc.want {
				t.Errorf("NonEmpty(%q) set %q, want %q", tc.v, dst, tc.want)
			}
		})
	}
}

func TestSetChecked(t *testing.T) {
	tests := map[string]struct {
		release string
		wantErr bool
	}{
		"release": {release: "6.1.0-56-amd64"},
		"path":    {release: "../../etc", wantErr: true},
		"empty":   {release: "", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dst := "before"
			err := SetChecked(&dst, tc.release, "WithRelease", modinfo.ValidateRelease)
			var re *modinfo.ReleaseError
			if tc.wantErr != errors.As(err, &re) {
				t.Fatalf("SetChecked(%q): %v, want a *modinfo.ReleaseError: %v", tc.release, err, tc.wantErr)
			}
			want := tc.release
			if tc.wantErr {
				want = "before" // unchanged
			}
			if dst != want {
				t.Errorf("SetChecked(%q) set %q, want %q", tc.release, dst, want)
			}
		})
	}
}
