package loader_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/fetcher/loader"
)

func TestVerified(t *testing.T) {
	ko := []byte("\x7fELF a module")
	sum := sha256.Sum256(ko)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	for name, c := range map[string]struct {
		record  string // "" for none
		mode    os.FileMode
		dirMode os.FileMode
		other   []byte // load this file instead of the fetched one
		want    bool
		wantWhy string
	}{
		"the fetched module":        {record: `{"ko_digest":"` + digest + `"}`, want: true},
		"another file":              {record: `{"ko_digest":"` + digest + `"}`, other: []byte("\x7fELF another"), wantWhy: "is not the module dnsmon-fetch verified"},
		"no record":                 {wantWhy: "no dnsmon-fetch record at "},
		"group-writable record":     {record: `{"ko_digest":"` + digest + `"}`, mode: 0o664, wantWhy: "writable by group or others"},
		"world-writable directory":  {record: `{"ko_digest":"` + digest + `"}`, dirMode: 0o777, wantWhy: "writable by group or others"},
		"not a record":              {record: `<html>`, wantWhy: "is not a dnsmon-fetch record"},
		"a record without a digest": {record: `{"kernel":"6.1.0-56-amd64"}`, wantWhy: "is not a dnsmon-fetch record"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "modules", "6.1.0-56-amd64")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "dnsmon.ko")
			if err := os.WriteFile(path, ko, 0o644); err != nil {
				t.Fatal(err)
			}
			rec := path + ".json"
			if c.record != "" {
				if err := os.WriteFile(rec, []byte(c.record), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.mode != 0 {
				os.Chmod(rec, c.mode)
			}
			if c.dirMode != 0 {
				os.Chmod(dir, c.dirMode)
			}
			if c.other != nil {
				path = filepath.Join(t.TempDir(), "dnsmon.ko")
				if err := os.WriteFile(path, c.other, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ok, why := loader.Verified(path, rec)
			if ok != c.want || !strings.Contains(why, c.wantWhy) {
				t.Errorf("Verified = %v, %q; want %v, %q", ok, why, c.want, c.wantWhy)
			}
		})
	}
}
