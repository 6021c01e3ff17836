package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/config"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "etc/dnsmon/config.json")
	if c, err := config.Load(p); err != nil || !reflect.DeepEqual(c, config.Config{}) {
		t.Fatalf("missing file: %+v, %v", c, err)
	}
	want := config.Config{Source: "registry.example/dnsmon/modules", Keys: []string{"/etc/dnsmon/new.pub", "/etc/dnsmon/dnsmon.pub"}, InsecureRegistry: true}
	if err := config.Save(p, want); err != nil {
		t.Fatal(err)
	}
	if got, err := config.Load(p); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	t.Chdir(dir)
	if err := config.Save(p, config.Config{Keys: []string{"dnsmon.pub"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := config.Load(p); !reflect.DeepEqual(got.Keys, []string{filepath.Join(dir, "dnsmon.pub")}) {
		t.Errorf("relative key saved as %q", got.Keys)
	}
	// A file from before keys: its one key reads as the first of Keys, and
	// saving writes keys only.
	os.WriteFile(p, []byte(`{"source":"r/x","key":"/etc/dnsmon/dnsmon.pub","keys":["/etc/dnsmon/new.pub"]}`), 0o644)
	got, err := config.Load(p)
	if err != nil || !reflect.DeepEqual(got, config.Config{Source: "r/x", Keys: []string{"/etc/dnsmon/dnsmon.pub", "/etc/dnsmon/new.pub"}}) {
		t.Errorf("old file: %+v, %v", got, err)
	}
	if err := config.Save(p, got); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); strings.Contains(string(b), `"key"`) {
		t.Errorf("saved the old field: %s", b)
	}
	for name, tc := range map[string]struct{ content, want string }{
		"unknown key": {`{"sauce":"x"}`, `unknown field "sauce"`},
		"not json":    {`source = x`, "invalid character"},
		"too big":     {strings.Repeat(" ", 70<<10), "more than"},
	} {
		os.WriteFile(p, []byte(tc.content), 0o644)
		if _, err := config.Load(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	os.WriteFile(p, nil, 0o000)
	if err := os.Remove(filepath.Dir(p) + "/config.json"); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(p, 0o755) // a directory in place of the file
	if _, err := config.Load(p); err == nil {
		t.Error("loading a directory succeeded")
	}
}
