package discover_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian/debiantest"
	"github.com/dnsmon/dnsmon/matrix/discover"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// mirrorTransport sends every request to srv, with the original host as the
// first path element: http(s)://HOST/PATH is served from testdata/CASE/HOST/PATH.
// Nothing leaves the loopback.
type mirrorTransport struct{ srv *httptest.Server }

func (m mirrorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Path = "/" + req.URL.Host + req.URL.Path
	r.URL.RawPath = ""
	r.URL.Scheme = "http"
	r.URL.Host = strings.TrimPrefix(m.srv.URL, "http://")
	r.Host = r.URL.Host
	return m.srv.Client().Transport.RoundTrip(r)
}

// signedMirror serves dir, and for every .../dists/SUITE/InRelease an
// InRelease listing the files below that suite's directory, signed by
// signer: a deb index is read only from a signed suite.
func signedMirror(dir string, signer *debiantest.Signer) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		suiteDir, ok := strings.CutSuffix(r.URL.Path, "/InRelease")
		if !ok || !strings.Contains(suiteDir, "/dists/") {
			files.ServeHTTP(w, r)
			return
		}
		index, err := debiantest.SuiteFiles(filepath.Join(dir, filepath.FromSlash(suiteDir)))
		if err != nil || len(index) == 0 {
			http.NotFound(w, r)
			return
		}
		b, err := signer.InRelease(index)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(b)
	})
}

func fixtureLister(t *testing.T, dir string) discover.Lister {
	t.Helper()
	signer, err := debiantest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(signedMirror(dir, signer))
	t.Cleanup(srv.Close)
	l, err := discover.NewLister(discover.WithCacheDir(t.TempDir()), discover.WithKeyring(signer.Keyring()),
		discover.WithHTTPClient(&http.Client{Transport: mirrorTransport{srv}}))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// TestDiscover runs discovery and --write on each recorded case under
// testdata/ and compares the summary, the JSON and the rewritten
// kernels.yaml with golden files.
func TestDiscover(t *testing.T) {
	cases := map[string]struct {
		failing []string // groups that must fail (no fixture)
	}{
		"deb": {failing: []string{"ubuntu-22.04"}},
		"rpm": {failing: []string{"rocky-8"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			f, err := matrix.Load(filepath.Join(dir, "kernels.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			results, err := discover.Discover(context.Background(), f, discover.WithLister(fixtureLister(t, dir)))
			var failed []string
			for _, r := range results {
				if r.Err != nil {
					failed = append(failed, r.Group)
					var ge *discover.GroupError
					if !strings.Contains(err.Error(), r.Group) || !errorsAs(err, &ge) {
						t.Errorf("joined error %v does not name group %s", err, r.Group)
					}
				}
			}
			if !slices.Equal(failed, tc.failing) {
				t.Errorf("failed groups %v, want %v (error: %v)", failed, tc.failing, err)
			}
			if len(results) != len(f.Groups) {
				t.Fatalf("%d results for %d groups", len(results), len(f.Groups))
			}
			var sum bytes.Buffer
			if err := discover.Summary(&sum, results); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "summary.golden"), sum.Bytes())
			js, err := json.MarshalIndent(results, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "results.golden.json"), append(js, '\n'))

			tmp := filepath.Join(t.TempDir(), "kernels.yaml")
			orig, _ := os.ReadFile(filepath.Join(dir, "kernels.yaml"))
			if err := os.WriteFile(tmp, orig, 0o640); err != nil {
				t.Fatal(err)
			}
			n, err := discover.Write(tmp, discover.ToWrite(results))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(tmp)
			golden(t, filepath.Join(dir, "kernels.write.golden.yaml"), got)
			if fi, _ := os.Stat(tmp); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v after write, want 0640", fi.Mode().Perm())
			}
			// Every original line survives, in order: comments included.
			assertSubsequence(t, strings.Split(string(orig), "\n"), strings.Split(string(got), "\n"))
			want := 0
			for _, r := range discover.ToWrite(results) {
				want += len(r)
			}
			if n != want {
				t.Errorf("Write added %d releases, want %d", n, want)
			}
			// Idempotent: a second discovery on the written file finds
			// nothing new for the pinned groups.
			f2, err := matrix.Load(tmp)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := discover.Discover(context.Background(), f2, discover.WithLister(fixtureLister(t, dir)))
			if add := discover.ToWrite(again); len(add) != 0 {
				t.Errorf("second discovery still finds %v", add)
			}
		})
	}
}

func errorsAs(err error, target **discover.GroupError) bool {
	type unwrapper interface{ Unwrap() []error }
	u, ok := err.(unwrapper)
	if !ok {
		return false
	}
	for _, e := range u.Unwrap() {
		if ge, ok := e.(*discover.GroupError); ok {
			*target = ge
			return true
		}
	}
	return false
}

func assertSubsequence(t *testing.T, sub, all []string) {
	t.Helper()
	j := 0
	for _, l := range all {
		if j < len(sub) && l == sub[j] {
			j++
		}
	}
	if j != len(sub) {
		t.Errorf("line %d of the original (%q) is missing or out of order after the write", j+1, sub[j])
	}
}

func TestOnly(t *testing.T) {
	dir := filepath.Join("testdata", "rpm")
	f, err := matrix.Load(filepath.Join(dir, "kernels.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	results, err := discover.Discover(context.Background(), f, discover.WithLister(fixtureLister(t, dir)),
		discover.WithOnly(regexp.MustCompile(`^rocky-9$`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Group != "rocky-9" ||
		!slices.Equal(results[0].New, []string{"5.14.0-503.15.1.el9_5.x86_64", "5.14.0-503.21.1.el9_5.x86_64"}) {
		t.Errorf("results %+v", results)
	}
}

func TestEdit(t *testing.T) {
	base := "# top\ngroups:\n  - name: u\n    distro: ubuntu\n    release: \"24.04\"\n    image: docker.io/library/ubuntu:24.04\n" +
		"    headers: {method: apt, packages: [\"linux-headers-{{.Release}}\"]}\n"
	tests := map[string]struct {
		kernels string
		add     discover.Additions
		want    string // kernels part after the edit
		wantErr string
	}{
		"append keeps comments": {
			kernels: "    kernels:\n      - 6.8.0-49-generic # one\n    # after\n",
			add:     discover.Additions{"u": {"6.8.0-50-generic", "6.8.0-51-generic"}},
			want:    "    kernels:\n      - 6.8.0-49-generic # one\n      - 6.8.0-50-generic\n      - 6.8.0-51-generic\n    # after\n",
		},
		"already listed": {
			kernels: "    kernels:\n      - 6.8.0-49-generic\n",
			add:     discover.Additions{"u": {"6.8.0-49-generic"}},
			want:    "    kernels:\n      - 6.8.0-49-generic\n",
		},
		"flow list": {
			kernels: "    kernels: [6.8.0-49-generic]\n",
			add:     discover.Additions{"u": {"6.8.0-50-generic"}},
			wantErr: "flow style",
		},
		"unknown group": {
			kernels: "    kernels:\n      - 6.8.0-49-generic\n",
			add:     discover.Additions{"nope": {"6.8.0-50-generic"}},
			wantErr: `no group named nope`,
		},
		"invalid result": {
			kernels: "    kernels:\n      - 6.8.0-49-generic\n",
			add:     discover.Additions{"u": {"6.8.0-generic"}},
			wantErr: "would be invalid",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, _, err := discover.Edit("k.yaml", []byte(base+tc.kernels), tc.add)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(string(out), base); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
