package modinfo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/kmodtest"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    *Info
		wantErr error
	}{
		"basic": {
			in: "name=dnsmon\x00version=1.0\x00vermagic=6.1.0-56-amd64 SMP mod_unload \x00",
			want: &Info{Name: "dnsmon", Version: "1.0", Vermagic: "6.1.0-56-amd64 SMP mod_unload ",
				Fields: []Field{{"name", "dnsmon"}, {"version", "1.0"}, {"vermagic", "6.1.0-56-amd64 SMP mod_unload "}}},
		},
		"padding and no trailing NUL": {
			in: "\x00\x00license=GPL\x00\x00\x00\x00depends=a,b\x00alias=x=y",
			want: &Info{License: "GPL", Depends: []string{"a", "b"},
				Fields: []Field{{"license", "GPL"}, {"depends", "a,b"}, {"alias", "x=y"}}},
		},
		"params merge parm and parmtype": {
			in: "parmtype=ports:array of ushort\x00parm=ports:ports to watch\x00parm=log:print: a line\x00",
			want: &Info{
				Params: []Param{{Name: "ports", Type: "array of ushort", Description: "ports to watch"}, {Name: "log", Description: "print: a line"}},
				Fields: []Field{{"parmtype", "ports:array of ushort"}, {"parm", "ports:ports to watch"}, {"parm", "log:print: a line"}}},
		},
		"empty depends": {
			in:   "depends=\x00",
			want: &Info{Fields: []Field{{"depends", ""}}},
		},
		"no equals":     {in: "name=x\x00garbage\x00", wantErr: ErrMalformed},
		"empty key":     {in: "=x\x00", wantErr: ErrMalformed},
		"parm no colon": {in: "parm=ports\x00", wantErr: ErrMalformed},
		"empty":         {in: "\x00\x00", wantErr: ErrMalformed},
		"too large":     {in: strings.Repeat("a=b\x00", MaxModinfoSize/4+1), wantErr: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Parse: err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	mod := kmodtest.CompileModule(t)
	plain := kmodtest.Compile(t, "testdata/nomodinfo/plain.c")
	tests := map[string]struct {
		path    string
		data    []byte
		check   func(t *testing.T, info *Info)
		wantErr error
	}{
		"module": {path: mod, check: func(t *testing.T, info *Info) {
			want := Info{Name: "dnsmon", Version: "1.2.3", License: "GPL", Description: "DNS query monitor",
				SrcVersion: "0123456789ABCDEF0123456", Vermagic: "6.1.0-56-amd64 SMP preempt mod_unload modversions "}
			got := *info
			got.Params, got.Fields, got.Depends = nil, nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Read:\n got %+v\nwant %+v", got, want)
			}
			wantParams := []Param{
				{Name: "ports", Type: "array of ushort", Description: "UDP/TCP destination ports to watch (default 53)"},
				{Name: "ring_size", Type: "uint", Description: "ring capacity in records (64..65536)"},
				{Name: "log", Type: "bool"},
			}
			// gcc may lay the strings out in any order, as it does in a real module.
			sort.Slice(info.Params, func(i, j int) bool { return info.Params[i].Name > info.Params[j].Name })
			sort.Slice(wantParams, func(i, j int) bool { return wantParams[i].Name > wantParams[j].Name })
			if !reflect.DeepEqual(info.Params, wantParams) {
				t.Errorf("Params:\n got %+v\nwant %+v", info.Params, wantParams)
			}
			if got := info.Get("retpoline"); !reflect.DeepEqual(got, []string{"Y"}) {
				t.Errorf("Get(retpoline) = %q", got)
			}
			if p, ok := info.Param("ring_size"); !ok || p.Type != "uint" {
				t.Errorf("Param(ring_size) = %+v, %v", p, ok)
			}
		}},
		"no modinfo": {path: plain, wantErr: ErrNoModinfo},
		"not elf":    {data: []byte("#!/bin/sh\necho hello\n"), wantErr: ErrNotELF},
		"empty":      {data: []byte{}, wantErr: ErrNotELF},
		"zstd data":  {data: append([]byte{0x28, 0xb5, 0x2f, 0xfd}, make([]byte, 64)...), wantErr: ErrNotELF},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data := tc.data
			if tc.path != "" {
				var err error
				if data, err = os.ReadFile(tc.path); err != nil {
					t.Fatal(err)
				}
			}
			info, err := Read(bytes.NewReader(data))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Read: err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			tc.check(t, info)
		})
	}
}

func TestReadFileCompressed(t *testing.T) {
	mod := kmodtest.CompileModule(t)
	raw, err := os.ReadFile(mod)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range compressAll(t, raw) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "dnsmon.ko."+name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := ReadFile(t.Context(), path, 0)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if info.Name != "dnsmon" || info.Version != "1.2.3" {
				t.Errorf("ReadFile = name %q version %q", info.Name, info.Version)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := ReadFile(t.Context(), filepath.Join(dir, "absent.ko"), 0)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "absent.ko") {
			t.Errorf("ReadFile(absent) = %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		path := filepath.Join(dir, "c.ko.zst")
		if err := os.WriteFile(path, compressAll(t, raw)["zst"], 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := ReadFile(ctx, path, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("ReadFile(canceled) = %v", err)
		}
	})
}
