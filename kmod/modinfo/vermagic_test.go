package modinfo

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseVermagic(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Vermagic
		wantErr error
	}{
		"debian": {
			in: "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
			want: Vermagic{Release: "6.1.0-56-amd64", SMP: true, Preempt: true, ModUnload: true, ModVersions: true,
				Flags: []string{"SMP", "preempt", "mod_unload", "modversions"}},
		},
		"rt": {
			in: "6.12.117+deb12-rt-amd64 SMP preempt_rt mod_unload modversions ",
			want: Vermagic{Release: "6.12.117+deb12-rt-amd64", SMP: true, PreemptRT: true, ModUnload: true, ModVersions: true,
				Flags: []string{"SMP", "preempt_rt", "mod_unload", "modversions"}},
		},
		"rhel7 with arch and randstruct": {
			in: "3.10.0-1160.el7.x86_64 SMP mod_unload modversions RANDSTRUCT_abc",
			want: Vermagic{Release: "3.10.0-1160.el7.x86_64", SMP: true, ModUnload: true, ModVersions: true,
				Flags: []string{"SMP", "mod_unload", "modversions", "RANDSTRUCT_abc"}},
		},
		"release only": {in: "7.3-amd64", want: Vermagic{Release: "7.3-amd64", Flags: []string{}}},
		"empty":        {in: "  ", wantErr: ErrNoVermagic},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseVermagic(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ParseVermagic: err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseVermagic:\n got %+v\nwant %+v", got, tc.want)
			}
			if s := got.String(); s != strings.Join(strings.Fields(tc.in), " ") {
				t.Errorf("String = %q", s)
			}
		})
	}
}

func TestCheckRelease(t *testing.T) {
	const vm = "6.1.0-55-amd64 SMP preempt mod_unload modversions "
	tests := map[string]struct {
		vermagic, running string
		wantErr           error
		wantMsg           string
	}{
		"match":    {vermagic: "6.1.0-56-amd64 SMP preempt mod_unload modversions ", running: "6.1.0-56-amd64"},
		"mismatch": {vermagic: vm, running: "6.1.0-56-amd64", wantErr: &MismatchError{}, wantMsg: `module built for kernel 6.1.0-55-amd64 (vermagic "6.1.0-55-amd64 SMP preempt mod_unload modversions"), but the running kernel is 6.1.0-56-amd64`},
		"flavour":  {vermagic: "6.1.0-56-amd64 SMP preempt mod_unload", running: "6.1.0-56-rt-amd64", wantErr: &MismatchError{}},
		"none":     {vermagic: "", running: "6.1.0-56-amd64", wantErr: ErrNoVermagic},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckRelease(tc.vermagic, tc.running)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckRelease: %v", err)
				}
				return
			}
			if _, ok := tc.wantErr.(*MismatchError); ok {
				var me *MismatchError
				if !errors.As(err, &me) {
					t.Fatalf("CheckRelease: err = %v, want *MismatchError", err)
				}
				if me.RunningRelease != tc.running || !strings.HasPrefix(tc.vermagic, me.ModuleRelease+" ") {
					t.Errorf("MismatchError = %+v", me)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("CheckRelease: err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("message:\n got %s\nwant %s", err, tc.wantMsg)
			}
		})
	}
}

func TestSigned(t *testing.T) {
	tests := map[string]struct {
		data []byte
		want bool
	}{
		"signed":   {append([]byte("\x7fELF....sigdata"), SignatureMagic...), true},
		"unsigned": {[]byte("\x7fELF................................"), false},
		"short":    {[]byte("~"), false},
		"exact":    {[]byte(SignatureMagic), true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Signed(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil || got != tc.want {
				t.Errorf("Signed = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
