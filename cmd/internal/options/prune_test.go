package options

import (
	"strings"
	"testing"
	"time"
)

func TestPruneValidate(t *testing.T) {
	tests := map[string]struct {
		p         Prune
		wantErr   []string // each must appear; none: valid
		wantAge   time.Duration
		wantBytes int64
	}{
		"keep-days":               {p: Prune{File: "k.yaml", KeepDays: "30"}, wantAge: 30 * 24 * time.Hour},
		"keep-days 0":             {p: Prune{File: "k.yaml", KeepDays: "0"}},
		"max-size":                {p: Prune{File: "k.yaml", MaxSize: "20G"}, wantBytes: 20 << 30},
		"max-size 0":              {p: Prune{File: "k.yaml", MaxSize: "0"}},
		"both":                    {p: Prune{File: "k.yaml", KeepDays: "7", MaxSize: "500M", DryRun: true}, wantAge: 7 * 24 * time.Hour, wantBytes: 500 << 20},
		"no limit":                {p: Prune{File: "k.yaml"}, wantErr: []string{"--keep-days N, --max-size SIZE or both"}},
		"no kernels file":         {p: Prune{KeepDays: "1"}, wantErr: []string{"-f"}},
		"negative days":           {p: Prune{File: "k.yaml", KeepDays: "-1"}, wantErr: []string{`--keep-days "-1"`}},
		"days not a number":       {p: Prune{File: "k.yaml", KeepDays: "7d"}, wantErr: []string{`--keep-days "7d": want a whole number of days`}},
		"days too many":           {p: Prune{File: "k.yaml", KeepDays: "99999999"}, wantErr: []string{"--keep-days"}},
		"size with a unit suffix": {p: Prune{File: "k.yaml", MaxSize: "20GB"}, wantErr: []string{`--max-size: "20GB": want a whole number of bytes`}},
		"every problem at once":   {p: Prune{KeepDays: "x", MaxSize: "y"}, wantErr: []string{"-f", "--keep-days", "--max-size"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.p.Validate()
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Validate: %v, want an error naming %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.p.HasMaxAge != (tc.p.KeepDays != "") || tc.p.MaxAge != tc.wantAge {
				t.Errorf("age %v (%v), want %v", tc.p.MaxAge, tc.p.HasMaxAge, tc.wantAge)
			}
			if tc.p.HasMaxBytes != (tc.p.MaxSize != "") || tc.p.MaxBytes != tc.wantBytes {
				t.Errorf("size %d (%v), want %d", tc.p.MaxBytes, tc.p.HasMaxBytes, tc.wantBytes)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1234": 1234, "1K": 1 << 10, "1k": 1 << 10, "500M": 500 << 20, "20G": 20 << 30, "20g": 20 << 30,
		"2T": 2 << 40, "8388607T": 8388607 << 40,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G", "-1", "+5", "1.5G", "20GB", "20 G", "1P", "8388608T", "99999999999999999999"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
}
