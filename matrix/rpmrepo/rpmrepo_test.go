package rpmrepo_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix/rpmrepo"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"3.10.0-1160.el7", "3.10.0-1160.120.1.el7", -1}, // numeric beats alpha
		{"5.14.0-503.21.1.el9_5", "5.14.0-503.15.1.el9_5", 1},
		{"5.14.0-503.14.1.el9_5", "5.14.0-427.42.1.el9_4", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0.1", -1},
		{"010", "10", 0},
		{"1.a", "1.1", -1},
	}
	for _, tc := range tests {
		if got := rpmrepo.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := rpmrepo.CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

const primaryXML = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="3">
<package type="rpm"><name>kernel-devel</name><arch>x86_64</arch><version epoch="0" ver="5.14.0" rel="503.14.1.el9_5"/><location href="Packages/k/kernel-devel-5.14.0-503.14.1.el9_5.x86_64.rpm"/><format><file>/x</file></format></package>
<package type="rpm"><name>bash</name><arch>x86_64</arch><version ver="5.1.8" rel="9.el9"/></package>
<package type="rpm"><name>kernel-devel</name><arch>aarch64</arch><version epoch="0" ver="5.14.0" rel="503.14.1.el9_5"/></package>
</metadata>`

func TestParsePrimary(t *testing.T) {
	tests := map[string]struct {
		in      string
		keep    func(name, arch string) bool
		want    []string // NVRAs
		wantErr bool
	}{
		"all":         {in: primaryXML, want: []string{"kernel-devel-5.14.0-503.14.1.el9_5.x86_64", "bash-5.1.8-9.el9.x86_64", "kernel-devel-5.14.0-503.14.1.el9_5.aarch64"}},
		"filtered":    {in: primaryXML, keep: func(n, a string) bool { return n == "kernel-devel" && a == "x86_64" }, want: []string{"kernel-devel-5.14.0-503.14.1.el9_5.x86_64"}},
		"not xml":     {in: "PK\x03\x04", wantErr: true},
		"no metadata": {in: `<repomd/>`, wantErr: true},
		"no release":  {in: `<metadata><package type="rpm"><name>x</name><arch>noarch</arch><version ver="1"/></package></metadata>`, wantErr: true},
		"truncated":   {in: primaryXML[:300], wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pkgs, err := rpmrepo.ParsePrimary(strings.NewReader(tc.in), tc.keep)
			if tc.wantErr {
				if !errors.Is(err, rpmrepo.ErrMalformed) {
					t.Fatalf("error %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.NVRA())
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if len(pkgs) > 0 && pkgs[0].Epoch != "0" {
				t.Errorf("epoch %q, want 0", pkgs[0].Epoch)
			}
		})
	}
}

// TestChecksum serves a repository whose primary does or does not match
// repomd.xml's checksum.
func TestChecksum(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(primaryXML))
	zw.Close()
	sum := sha256.Sum256(gz.Bytes())
	good := hex.EncodeToString(sum[:])
	tests := map[string]struct {
		checksum string
		wantErr  bool
	}{
		"match":    {checksum: good},
		"mismatch": {checksum: strings.Repeat("0", 64), wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("/repo/repodata/repomd.xml", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `<repomd><data type="primary"><checksum type="sha256">%s</checksum><location href="repodata/p-primary.xml.gz"/></data></repomd>`, tc.checksum)
			})
			mux.HandleFunc("/repo/repodata/p-primary.xml.gz", func(w http.ResponseWriter, r *http.Request) { w.Write(gz.Bytes()) })
			srv := httptest.NewServer(mux)
			defer srv.Close()
			c, err := rpmrepo.NewClient(rpmrepo.WithCacheDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := c.Packages(context.Background(), srv.URL+"/repo", nil)
			var ce *rpmrepo.ChecksumError
			if tc.wantErr {
				if !errors.As(err, &ce) {
					t.Fatalf("error %v, want a ChecksumError", err)
				}
				return
			}
			if err != nil || len(pkgs) != 3 {
				t.Fatalf("%d packages, error %v", len(pkgs), err)
			}
		})
	}
}
