package options

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkValidate checks Validate's error against wantErr, a part of the
// error expected ("" for none), and reports whether one was expected: then
// the case ends there.
func checkValidate(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Validate: %v", err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("Validate: %v, want an error naming %q", err, wantErr)
	}
	return true
}

func TestLoad(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    Load
		wantErr string
	}{
		"nothing":           {args: nil, want: Load{}},
		"file":              {args: []string{"dnsmon.ko"}, want: Load{File: "dnsmon.ko"}},
		"file and params":   {args: []string{"/tmp/dnsmon.ko.zst", "ports=53,5353", "log=0"}, want: Load{File: "/tmp/dnsmon.ko.zst", Params: []string{"ports=53,5353", "log=0"}}},
		"params only":       {args: []string{"ring_size=8192"}, want: Load{Params: []string{"ring_size=8192"}}},
		"file with equals":  {args: []string{"./a=b"}, want: Load{File: "./a=b"}},
		"unload":            {args: []string{"--unload"}, want: Load{Unload: true}},
		"unload with file":  {args: []string{"--unload", "dnsmon.ko"}, wantErr: "--unload takes no FILE or parameters"},
		"bad param":         {args: []string{"dnsmon.ko", "ring_size"}, wantErr: `"ring_size" is not name=value`},
		"flag after args":   {args: []string{"dnsmon.ko", "--unload"}, wantErr: "flag --unload after the arguments: flags go before FILE and parameters"},
		"param twice":       {args: []string{"log=1", "log=0"}, wantErr: "parameter log given twice"},
		"space in value":    {args: []string{"ports=53 54"}, wantErr: "may not hold spaces"},
		"empty param value": {args: []string{"x.ko", "log="}, wantErr: `"log=" has no value`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var o Load
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			o.SetArgs(fs.Args())
			err := o.Validate()
			if checkValidate(t, err, tc.wantErr) {
				return
			}
			if len(o.Params) == 0 {
				o.Params = nil
			}
			if !reflect.DeepEqual(o, tc.want) {
				t.Errorf("got %+v, want %+v", o, tc.want)
			}
		})
	}
	if got := (&Load{}).Path("6.1.0-56-amd64"); got != "/var/lib/dnsmon/modules/6.1.0-56-amd64/dnsmon.ko" {
		t.Errorf("default Path = %q", got)
	}
	if got := (&Load{File: "x.ko"}).Path("r"); got != "x.ko" {
		t.Errorf("Path = %q", got)
	}
}

func TestWatch(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    Watch
		wantErr string
	}{
		"defaults":        {want: Watch{Device: "/dev/dnsmon"}},
		"all":             {args: []string{"--json", "--device", "/tmp/d", "--count", "3", "--timeout", "30s"}, want: Watch{JSON: true, Device: "/tmp/d", Count: 3, Timeout: 30 * time.Second}},
		"stats":           {args: []string{"--stats", "--json"}, want: Watch{Stats: true, JSON: true, Device: "/dev/dnsmon"}},
		"stats and count": {args: []string{"--stats", "--count", "1"}, wantErr: "--stats prints the counters once"},
		"lookups":         {args: []string{"--lookups", "--json", "--count", "5"}, want: Watch{Lookups: true, JSON: true, Count: 5, Device: "/dev/dnsmon"}},
		"stats, lookups":  {args: []string{"--stats", "--lookups"}, wantErr: "it takes no --count, --timeout or --lookups"},
		"negative count":  {args: []string{"--count", "-1"}, wantErr: "--count -1: must be 0"},
		"negative time":   {args: []string{"--timeout", "-1s"}, wantErr: "--timeout -1s: must be 0"},
		"empty device":    {args: []string{"--device", ""}, wantErr: "--device must name a device"},
		"argument":        {args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var o Watch
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate(fs.Args())
			if checkValidate(t, err, tc.wantErr) {
				return
			}
			if o != tc.want {
				t.Errorf("got %+v, want %+v", o, tc.want)
			}
			if len(o.Options()) != 5 {
				t.Error("Options")
			}
		})
	}
}
