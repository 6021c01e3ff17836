package builder

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
)

// TestRPMRepoSignatures checks the yum repositories the headers script
// writes against dnf (Debian's, in an install root, touching nothing of the
// host): from a repository the test builds and signs itself, served on
// loopback, dnf installs the package signed with the source's key and
// refuses an unsigned one, a tampered one and one signed with another key.
func TestRPMRepoSignatures(t *testing.T) {
	for _, tool := range []string{"rpmbuild", "rpmsign", "createrepo_c", "dnf", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v (.ci/deps installs it)", tool, err)
		}
	}
	dir := t.TempDir()
	trusted := newGPGKey(t, filepath.Join(dir, "trusted"))
	other := newGPGKey(t, filepath.Join(dir, "other"))

	built := rpmbuild(t, filepath.Join(dir, "top"), "testdata/rpm/dnsmon-hello.spec")
	srv := filepath.Join(dir, "srv")
	put := func(name string, data []byte) {
		t.Helper()
		repo := filepath.Join(srv, name)
		if err := os.MkdirAll(repo, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, filepath.Base(built)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// The repository's own metadata describes what it serves: an
		// attacker who controls the mirror controls it too.
		run(t, nil, "createrepo_c", "--quiet", repo)
	}
	unsigned := readFile(t, built)
	signed := trusted.sign(t, unsigned)
	tampered := bytes.Clone(signed)
	tampered[len(tampered)-16] ^= 0xff // in the compressed payload
	put("signed", signed)
	put("unsigned", unsigned)
	put("tampered", tampered)
	put("other-key", other.sign(t, unsigned))
	hs := httptest.NewServer(http.FileServer(http.Dir(srv)))
	t.Cleanup(hs.Close)

	tests := map[string]struct {
		repo    string
		gpgkey  string
		relax   bool   // set gpgcheck=0 in the written file, the control
		want    string // in dnf's output when it refuses
		install bool
	}{
		"signed":           {repo: "signed", install: true},
		"unsigned":         {repo: "unsigned", want: "is not signed"},
		"tampered":         {repo: "tampered", want: "GPG check FAILED"},
		"other key":        {repo: "other-key", want: "GPG check FAILED"},
		"control unsigned": {repo: "unsigned", relax: true, install: true},
		"missing key file": {repo: "signed", gpgkey: "file://" + filepath.Join(dir, "no-such-key")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			key := "file://" + trusted.pub
			if tc.gpgkey != "" {
				key = tc.gpgkey
			}
			target := rpmRepoTarget(t, hs.URL+"/"+tc.repo+"/", key)
			repos := filepath.Join(root, "yum.repos.d")
			if err := os.MkdirAll(repos, 0o755); err != nil {
				t.Fatal(err)
			}
			out, err := writeRepos(target, repos)
			if tc.gpgkey != "" {
				if err == nil || !strings.Contains(out, "is not in the image: set gpgkey:") {
					t.Fatalf("headers script with a missing key: %v\n%s", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("headers script: %v\n%s", err, out)
			}
			file := filepath.Join(repos, "dnsmon-test.repo")
			conf := readFile(t, file)
			for _, line := range []string{"gpgcheck=1", "gpgkey=" + key} {
				if !bytes.Contains(conf, []byte("\n"+line+"\n")) {
					t.Fatalf("%s lacks %q:\n%s", file, line, conf)
				}
			}
			if tc.relax {
				conf = bytes.Replace(conf, []byte("gpgcheck=1"), []byte("gpgcheck=0"), 1)
				if err := os.WriteFile(file, conf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, err = dnfInstall(root, repos, "dnsmon-hello")
			_, statErr := os.Stat(filepath.Join(root, "inst", "usr/share/dnsmon-hello/hello"))
			if tc.install {
				if err != nil || statErr != nil {
					t.Fatalf("dnf install: %v, %v\n%s", err, statErr, out)
				}
				return
			}
			if err == nil || statErr == nil {
				t.Fatalf("dnf installed the package from %s:\n%s", tc.repo, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("dnf refused without %q:\n%s", tc.want, out)
			}
		})
	}
}

// rpmRepoTarget is the target kernels.yaml makes of one Rocky 9 group with
// a yum source at baseurl whose packages must be signed with gpgkey.
func rpmRepoTarget(t *testing.T, baseurl, gpgkey string) matrix.Target {
	t.Helper()
	f, err := matrix.Parse("kernels.yaml", fmt.Appendf(nil, `groups:
  - name: rocky-9
    distro: rocky
    release: "9"
    image: docker.io/rockylinux/rockylinux:9
    replace_sources: true
    sources:
      - yum: {id: test, baseurl: %q, gpgkey: %q}
    headers: {method: dnf, packages: ["kernel-devel-{{.Release}}"]}
    kernels: [5.14.0-503.14.1.el9_5.x86_64]
`, baseurl, gpgkey))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := matrix.Expand(f)
	if err != nil || len(ts) != 1 {
		t.Fatalf("Expand: %d targets, %v", len(ts), err)
	}
	return ts[0]
}

// writeRepos runs the repository part of t's headers script with its
// environment, writing into dir instead of /etc/yum.repos.d.
func writeRepos(t matrix.Target, dir string) (string, error) {
	cmd := exec.Command("/bin/sh", "-c", headersScript(t))
	cmd.Env = append(append([]string{imagePath}, headersEnv(t)...), "DNSMON_REPODIR="+dir, "DNSMON_STEP=repos")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// dnfInstall installs pkg into root/inst from the repositories in repos
// only, with no configuration, cache or log of the host's.
func dnfInstall(root, repos, pkg string) (string, error) {
	conf, logs := filepath.Join(root, "dnf.conf"), filepath.Join(root, "log")
	if err := os.WriteFile(conf, []byte("[main]\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.Mkdir(logs, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("dnf", "-y", "--config="+conf, "--installroot="+filepath.Join(root, "inst"),
		"--setopt=reposdir="+repos, "--setopt=cachedir="+filepath.Join(root, "cache"),
		"--setopt=logdir="+logs, "--releasever=9", "install", pkg)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// gpgKey is a throwaway signing key in its own GNUPGHOME.
type gpgKey struct {
	home, name, pub string
}

func newGPGKey(t *testing.T, home string) gpgKey {
	t.Helper()
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	k := gpgKey{home: home, name: "dnsmon test " + filepath.Base(home), pub: filepath.Join(home, "key.asc")}
	env := []string{"GNUPGHOME=" + home}
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	run(t, env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", k.name+" <test@dnsmon.invalid>", "rsa2048", "sign", "never")
	run(t, env, "gpg", "--batch", "--armor", "--output", k.pub, "--export", k.name)
	return k
}

// sign returns the package pkg signed with k.
func (k gpgKey) sign(t *testing.T, pkg []byte) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.rpm")
	if err := os.WriteFile(f, pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	// Debian's rpm calls gpg2, which Debian names gpg; rpm wants its path.
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		t.Fatal(err)
	}
	run(t, []string{"GNUPGHOME=" + k.home}, "rpmsign", "--define", "__gpg "+gpg, "--define", "_gpg_path "+k.home,
		"--define", "_gpg_name "+k.name, "--addsign", f)
	return readFile(t, f)
}

// rpmbuild builds the binary package of spec under top and returns its path.
func rpmbuild(t *testing.T, top, spec string) string {
	t.Helper()
	abs, err := filepath.Abs(spec)
	if err != nil {
		t.Fatal(err)
	}
	run(t, nil, "rpmbuild", "--quiet", "--define", "_topdir "+top, "-bb", abs)
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "noarch", "*.rpm"))
	if err != nil || len(rpms) != 1 {
		t.Fatalf("rpmbuild made %q: %v", rpms, err)
	}
	return rpms[0]
}

func run(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
