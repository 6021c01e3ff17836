package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/e2e/internal/proto"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// TestDemo is what `make demo` shows: a guest with no compiler and no
// network device fetches the module for its own kernel from an offline
// bundle, verifies and loads it, and dnsmon-watch shows queries from a few
// programs.
//
// DNSMON_DEMO_BUNDLE, DNSMON_DEMO_KEY and DNSMON_DEMO_MODULE_CERT name the
// bundle, the public key and the module signing certificate (`make demo`
// passes what dnsmon-farm made) and the demo lines go to stdout; without
// them the test builds the module for the guest's kernel, signs it and its
// artifact with fresh keys, publishes and bundles it itself.
// DNSMON_DEMO_SUITE=SUITE[:FLAVOUR] picks the guest's kernel as
// GuestKernel resolves it: default bookworm's amd64; noble gives Ubuntu
// 24.04's generic kernel. DNSMON_DEMO_ARCH=arm64 makes the default flavour
// Debian's arm64, booted on qemu-system-aarch64.
func TestDemo(t *testing.T) {
	// `make demo` sets DNSMON_DEMO_BUNDLE: never skip there, or it would
	// report a demo that did not run.
	if testing.Short() && os.Getenv("DNSMON_DEMO_BUNDLE") == "" {
		t.Skip("builds a module and boots a qemu guest")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	suite, flavour, _ := strings.Cut(os.Getenv("DNSMON_DEMO_SUITE"), ":")
	if suite == "" {
		suite = "bookworm"
	}
	if flavour == "" && os.Getenv("DNSMON_DEMO_ARCH") == "arm64" {
		flavour = "arm64"
	}
	k, err := GuestKernel(ctx, c, filepath.Join(root, "kernels.yaml"), suite, flavour)
	if err != nil {
		t.Fatalf("resolving the newest %s kernel: %v", suite, err)
	}
	vmlinuz, err := Vmlinuz(ctx, c, k)
	if err != nil {
		t.Fatal(err)
	}
	bundle, key, certPath := os.Getenv("DNSMON_DEMO_BUNDLE"), os.Getenv("DNSMON_DEMO_KEY"), os.Getenv("DNSMON_DEMO_MODULE_CERT")
	show := bundle != ""
	switch {
	case (bundle == "") != (key == "") || (bundle == "") != (certPath == ""):
		t.Fatal("set all of DNSMON_DEMO_BUNDLE, DNSMON_DEMO_KEY and DNSMON_DEMO_MODULE_CERT, or none")
	case bundle == "":
		bundle, key, certPath = demoBundle(ctx, t, root, k)
	}
	pub, err := signature.LoadPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certBytes, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := modsign.ParseCertificate(certBytes)
	if err != nil {
		t.Fatalf("%s: %v", certPath, err)
	}
	tools, err := BuildToolsFor(ctx, root, t.TempDir(), k.Arch(),
		append(append([]Tool(nil), GuestTools...), Tool{Pkg: "./cmd/dnsmon-fetch", Path: "/bin/dnsmon-fetch"}))
	if err != nil {
		t.Fatal(err)
	}
	files := append(tools,
		InitramfsFile{Path: "/bundle.tar.zst", Source: bundle, Mode: 0o644},
		InitramfsFile{Path: "/dnsmon.pub", Source: key, Mode: 0o644})
	initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
	if err := WriteInitramfs(initrd, files); err != nil {
		t.Fatal(err)
	}

	logPath, err := NewLogPath(filepath.Join(c.CacheRoot(), "guest-logs"), "demo-"+k.Release)
	if err != nil {
		t.Fatal(err)
	}
	emit := func(l proto.DemoLine) { t.Log(demoText(l)) }
	if show {
		fmt.Printf("booting %s (%s) in qemu with %s and %s in its initramfs\n", k.Release, suite, filepath.Base(bundle), filepath.Base(key))
		emit = func(l proto.DemoLine) { fmt.Println(demoText(l)) }
	}
	stopTail := tailDemo(logPath, emit)
	r, err := Run(ctx, Boot{Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, Append: proto.DemoMode, Arch: k.Arch(), Timeout: 3 * time.Minute})
	stopTail()
	if err != nil {
		t.Fatalf("%v", err)
	}
	failed := false
	got := map[string]Verdict{}
	for _, v := range r.Verdicts {
		got[v.Scenario] = v
		if v.Status != Pass {
			failed = true
			t.Errorf("guest: %s %s: %s", v.Scenario, v.Status, v.Detail)
		}
	}
	for _, s := range []string{"setup", "fetch", "load", "events-seen"} {
		if _, ok := got[s]; !ok {
			failed = true
			t.Errorf("guest reported no %q verdict", s)
		}
	}
	lines, err := demoLines(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got["fetch"]; ok && v.Status == Pass {
		if err := checkFetch(v.Detail, k.Release, signature.Fingerprint(pub), modsign.Fingerprint(cert)); err != nil {
			failed = true
			t.Error(err)
		}
	}
	if err := checkWatch(lines); err != nil {
		failed = true
		t.Error(err)
	}
	if failed {
		t.Logf("console log kept: %s", logPath)
		return
	}
	if show {
		fmt.Printf("guest %s: fetched and verified the module for its own kernel, loaded it, and dnsmon-watch showed all %d queries (%v in qemu)\n",
			k.Release, len(proto.DemoQueries()), r.Elapsed.Round(time.Second))
	}
	if os.Getenv("DNSMON_GUEST_KEEP_LOGS") == "" {
		os.Remove(logPath)
	}
}

// demoBundle builds the module for k, signs it with a fresh module signing
// key, publishes it signed with a fresh artifact key into an OCI layout and
// bundles that, as `make demo` does with dnsmon-farm for every kernel. It
// returns the bundle, the public key and the module signing certificate
// (DER).
func demoBundle(ctx context.Context, t *testing.T, root string, k debian.Kernel) (bundle, pubPath, certPath string) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	privPath, pubPath, err := signature.GenerateKeyFiles(keys, false)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signature.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := modsign.NewSigningKey(modsign.DefaultSubject, modsign.WithBits(2048))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, certPath, err = pair.WriteFiles(keys); err != nil {
		t.Fatal(err)
	}
	ko, err := builder.BuildForSuite(ctx, filepath.Join(root, "kernels.yaml"), k.Suite, k.Release, k.Arch(),
		builder.WithLog(io.Discard), builder.WithModuleSigner(pair))
	if err != nil {
		t.Fatalf("building the module for %s: %v", k.Release, err)
	}
	// The module cache is a builder.DirPublisher tree, ARCH/KERNEL/dnsmon.{ko,json}
	// with the signing certificate at its top: copy this kernel's entry
	// alone and publish it.
	cache := filepath.Dir(filepath.Dir(filepath.Dir(ko)))
	built := filepath.Join(dir, "built", filepath.Base(filepath.Dir(filepath.Dir(ko))), k.Release)
	if err := os.MkdirAll(built, 0o755); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{
		ko:                                      filepath.Join(built, filepath.Base(ko)),
		strings.TrimSuffix(ko, ".ko") + ".json": filepath.Join(built, strings.TrimSuffix(filepath.Base(ko), ".ko")+".json"),
		filepath.Join(cache, builder.SigningCertFile): filepath.Join(dir, "built", builder.SigningCertFile),
	} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layout := "oci-layout:" + filepath.Join(dir, "layout")
	p, err := publish.New(ctx, layout, publish.WithSigningKey(priv))
	if err != nil {
		t.Fatal(err)
	}
	st, err := publish.Dir(ctx, filepath.Join(dir, "built"), p)
	p.Close()
	if err != nil {
		t.Fatalf("publishing the module for %s: %v", k.Release, err)
	}
	if st.Published != 1 {
		t.Fatalf("published %d modules, want 1", st.Published)
	}
	src, err := store.Open(ctx, layout)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bundle = filepath.Join(dir, "dnsmon-bundle.tar.zst")
	if _, err := publish.WriteBundleFile(ctx, src, bundle, publish.BundleOptions{}); err != nil {
		t.Fatalf("writing the bundle: %v", err)
	}
	return bundle, pubPath, certPath
}

// demoText renders a demo line for a terminal.
func demoText(l proto.DemoLine) string {
	switch l.Kind {
	case proto.DemoCmd:
		return "  guest# " + l.Text
	case proto.DemoOut:
		return "         " + l.Text
	case proto.DemoWatch:
		return "  [dnsmon-watch] " + l.Text
	case proto.DemoDmesg:
		return "  [dmesg] " + l.Text
	default:
		return "  -- " + l.Text
	}
}

// tailDemo follows the console log as qemu writes it and passes each demo
// line to fn; the returned function stops it after the last line.
func tailDemo(path string, fn func(proto.DemoLine)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var f *os.File
		for f == nil {
			var err error
			if f, err = os.Open(path); err == nil {
				break
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		defer f.Close()
		r := bufio.NewReader(f)
		var partial string
		stopping := false
		for {
			s, err := r.ReadString('\n')
			partial += s
			if err == nil {
				if l, ok := proto.ParseDemoLine(partial); ok {
					fn(l)
				}
				partial = ""
				continue
			}
			if stopping { // qemu has exited and the file is read to its end
				if l, ok := proto.ParseDemoLine(partial); ok {
					fn(l)
				}
				return
			}
			select {
			case <-done:
				stopping = true
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// demoLines reads the demo lines of a console log.
func demoLines(path string) ([]proto.DemoLine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ls []proto.DemoLine
	for _, line := range strings.Split(string(b), "\n") {
		if l, ok := proto.ParseDemoLine(line); ok {
			ls = append(ls, l)
		}
	}
	return ls, nil
}

// checkFetch checks the guest's fetch record: the module for the guest's
// release, its artifact signature verified with the demo's key, and its
// module signature checked against the demo's module signing certificate.
func checkFetch(detail, release, fingerprint, certFingerprint string) error {
	var rec struct {
		Path         string `json:"path"`
		Kernel       string `json:"kernel"`
		Signer       string `json:"signer"`
		Verified     bool   `json:"signature_verified"`
		ModuleSigned bool   `json:"module_signed"`
		SigningCert  string `json:"signing_cert"`
	}
	if err := json.Unmarshal([]byte(detail), &rec); err != nil {
		return fmt.Errorf("fetch verdict detail %q: %v", detail, err)
	}
	var bad []string
	if rec.Kernel != release {
		bad = append(bad, fmt.Sprintf("fetched the module for %q, the guest runs %q", rec.Kernel, release))
	}
	if !strings.Contains(rec.Path, release) {
		bad = append(bad, fmt.Sprintf("wrote %q, not under the guest's release", rec.Path))
	}
	if !rec.Verified || rec.Signer != fingerprint {
		bad = append(bad, fmt.Sprintf("signature verified=%v by %q, want verified by the demo key %s", rec.Verified, rec.Signer, fingerprint))
	}
	if !rec.ModuleSigned || rec.SigningCert != certFingerprint {
		bad = append(bad, fmt.Sprintf("module signed=%v, checked against certificate %q, want signed and checked against the demo's certificate %s", rec.ModuleSigned, rec.SigningCert, certFingerprint))
	}
	if len(bad) > 0 {
		return fmt.Errorf("dnsmon-fetch: %s", strings.Join(bad, "; "))
	}
	return nil
}

// checkWatch finds every demo query among dnsmon-watch's lines, with its
// program, user and transport, and the one from a new network namespace
// with a namespace of its own.
func checkWatch(lines []proto.DemoLine) error {
	var watch []string
	for _, l := range lines {
		if l.Kind == proto.DemoWatch {
			watch = append(watch, l.Text)
		}
	}
	var missing []string
	netns := map[bool]map[string]bool{false: {}, true: {}}
	for _, q := range proto.DemoQueries() {
		found := false
		for _, w := range watch {
			f := strings.Fields(w)
			if strings.HasSuffix(w, " "+q.Type+" "+q.Name) && slices.Contains(f, "comm="+q.Comm) &&
				slices.Contains(f, "user="+q.User) && slices.Contains(f, q.Proto()) && slices.Contains(f, q.Server) {
				found = true
				for _, x := range f {
					if strings.HasPrefix(x, "netns=") {
						netns[q.NewNetns][x] = true
					}
				}
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s %s from %s (user %s, %s to %s)", q.Type, q.Name, q.Comm, q.User, q.Net, q.Server))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dnsmon-watch did not show: %s; it printed %d lines: %q", strings.Join(missing, "; "), len(watch), watch)
	}
	for ns := range netns[true] {
		if netns[false][ns] {
			return fmt.Errorf("the query from a new network namespace shows %s, the namespace of the others", ns)
		}
	}
	return nil
}
