package options

import (
	"flag"
	"io"
	"testing"
)

func TestParseShard(t *testing.T) {
	tests := map[string]struct {
		in          string
		index, n    int
		wantFailure bool
	}{
		"first":     {in: "1/3", index: 0, n: 3},
		"last":      {in: "3/3", index: 2, n: 3},
		"only":      {in: "1/1", index: 0, n: 1},
		"zero":      {in: "0/3", wantFailure: true},
		"past end":  {in: "4/3", wantFailure: true},
		"no slash":  {in: "3", wantFailure: true},
		"no count":  {in: "1/", wantFailure: true},
		"negative":  {in: "-1/3", wantFailure: true},
		"not a num": {in: "a/b", wantFailure: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, n, err := ParseShard(tc.in)
			if tc.wantFailure {
				if err == nil {
					t.Fatalf("ParseShard(%q) = %d, %d", tc.in, i, n)
				}
				return
			}
			if err != nil || i != tc.index || n != tc.n {
				t.Fatalf("ParseShard(%q) = %d, %d, %v", tc.in, i, n, err)
			}
		})
	}
}

func TestFarmBuildValidate(t *testing.T) {
	tests := map[string]struct {
		args []string
		ok   bool
	}{
		"defaults":            {ok: true},
		"all flags":           {args: []string{"-f", "k.yaml", "--only", "^debian-", "-j", "2", "--to", "dir:out", "--shard", "2/4"}, ok: true},
		"bad regexp":          {args: []string{"--only", "("}},
		"bad jobs":            {args: []string{"-j", "0"}},
		"bad shard":           {args: []string{"--shard", "5/4"}},
		"runner arch arm64":   {args: []string{"--runner-arch", "arm64", "--shard", "1/2"}, ok: true},
		"runner arch x86_64":  {args: []string{"--runner-arch", "x86_64"}},
		"empty dir dest":      {args: []string{"--to", "dir:"}},
		"unsigned dir":        {args: []string{"--to", "dir:x", "--unsigned"}},
		"cache":               {args: []string{"--to", "cache", "--logs", "l"}, ok: true},
		"no-index cache":      {args: []string{"--to", "cache", "--no-index"}},
		"signed cache":        {args: []string{"--to", "cache", "--module-key", "m.key", "--module-cert", "m.pem"}},
		"module key and cert": {args: []string{"--module-key", "m.key", "--module-cert", "m.pem"}, ok: true},
		"module key alone":    {args: []string{"--module-key", "m.key"}},
		"module cert alone":   {args: []string{"--module-cert", "m.pem"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := flag.NewFlagSet("build", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var b FarmBuild
			AddFarmBuildFlags(fs, &b)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := b.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if name == "all flags" && (b.ShardIndex != 1 || b.ShardCount != 4 || b.OnlyRE == nil) {
				t.Errorf("parsed fields: %+v", b)
			}
		})
	}
}
