package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/kmod/kmodtest"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/google/go-containerregistry/pkg/registry"
)

// TestDiscoverVerb runs `discover` on a group whose discover.sources point
// at the recorded Rocky 9 repository, then --write and --json.
func TestDiscoverVerb(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("../../matrix/discover/testdata/rpm")))
	defer srv.Close()
	t.Setenv("DNSMON_CACHE", t.TempDir())
	file := filepath.Join(t.TempDir(), "kernels.yaml")
	tmpl, err := os.ReadFile("testdata/discover/kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.ReplaceAll(string(tmpl), "{{.URL}}", srv.URL)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out bytes.Buffer
	err = run(ctx, &out, io.Discard, []string{"discover", "-f", file, "--write"})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 groups could not be read") {
		t.Errorf("error %v, want one failed group", err)
	}
	if !strings.Contains(out.String(), "rocky-9: 3 new: 5.14.0-427.13.1.el9_4.x86_64 5.14.0-503.15.1.el9_5.x86_64 5.14.0-503.21.1.el9_5.x86_64") ||
		!strings.Contains(out.String(), "alma-8: error: ") {
		t.Errorf("output:\n%s", out.String())
	}
	f, err := matrix.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Groups[0].Kernels; len(got) != 4 {
		t.Errorf("kernels after --write: %v", got)
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "# keep me") || !strings.Contains(string(b), "# pinned") || !strings.Contains(string(b), "# a group whose") {
		t.Errorf("comments lost:\n%s", b)
	}
	out.Reset()
	if err := run(ctx, &out, io.Discard, []string{"discover", "-f", file, "--only", "^rocky", "--json"}); err != nil {
		t.Fatal(err)
	}
	var res []struct {
		Group string   `json:"group"`
		New   []string `json:"new"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 || len(res[0].New) != 0 {
		t.Errorf("--json after --write: %v %s", err, out.String())
	}
}

// TestReindexVerb publishes two shards with --no-index semantics and runs
// `reindex --repo` twice.
func TestReindexVerb(t *testing.T) {
	ctx := context.Background()
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer s.Close()
	repo := strings.TrimPrefix(s.URL, "http://") + "/dnsmon/modules"
	keyDir := t.TempDir()
	keyFile, _, err := signature.GenerateKeyFiles(keyDir, false)
	if err != nil {
		t.Fatal(err)
	}
	key, err := signature.LoadPrivateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"6.1.0-56-amd64", "6.12.117+deb12-amd64"} {
		p, err := publish.New(ctx, repo, publish.WithSigningKey(key), publish.WithoutIndex())
		if err != nil {
			t.Fatal(err)
		}
		m := builder.Module{Key: builder.Key{Module: "dnsmon", ModuleVersion: "0.1.0", Kernel: r, Arch: "amd64", Recipe: "r", SourceDigest: "s"},
			Target: matrix.Target{Group: "debian-12", Distro: "debian"}, Data: kmodtest.KO(kmodtest.Module{Release: r}), Created: time.Unix(0, 0)}
		if err := p.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	steps := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"reindex"}, "", "--repo is required"},
		{[]string{"reindex", "--repo", repo}, "", "--key FILE is required"},
		{[]string{"reindex", "--repo", repo, "--key", keyFile}, "2 modules (1 indexes written, 0 unchanged); version index serial 1 written", ""},
		{[]string{"reindex", "--repo", repo, "--key", keyFile, "--version", "0.1.0"}, "2 modules (0 indexes written, 1 unchanged); version index serial 1 unchanged", ""},
		{[]string{"reindex", "--repo", repo, "--key", keyFile, "--expires", "7d"}, "version index serial 2 written", ""},
		{[]string{"reindex", "--repo", repo, "--key", keyFile, "--version", "0.2.0"}, "", `no module tag of version "0.2.0"`},
	}
	for _, st := range steps {
		var out bytes.Buffer
		err := run(ctx, &out, io.Discard, st.args)
		if st.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), st.wantErr) {
				t.Errorf("%v: %v, want %q", st.args, err, st.wantErr)
			}
			continue
		}
		if err != nil || !strings.Contains(out.String(), st.wantOut) {
			t.Errorf("%v: %v, output %q, want %q", st.args, err, out.String(), st.wantOut)
		}
	}
}
