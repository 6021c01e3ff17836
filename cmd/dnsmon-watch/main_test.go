package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dnsmon/dnsmon/fetcher/watch"
	"github.com/dnsmon/dnsmon/kmod/event"
)

// TestRun reads a file of records through the real device code (poll and
// read on a non-blocking descriptor); a regular file ends with EOF, as the
// device does when the module goes away.
func TestRun(t *testing.T) {
	// Three queries, the first answered.
	var recs []byte
	for i := uint64(1); i <= 4; i++ {
		e := event.Event{Seq: i, Time: time.Unix(1764237600, 0), PID: 4242, TID: 4242, UID: 0, NetNS: 4026531840,
			Family: event.FamilyIPv6, Proto: event.ProtoUDP, Server: netip.MustParseAddr("::1"), Port: 53,
			ID: 7, QType: 28, QClass: event.ClassIN, QName: "example.org", Comm: "getent",
			Lookup: i, Local: netip.MustParseAddrPort("[::1]:40000")}
		if i == 2 {
			e.Kind, e.Lookup, e.DNSFlags, e.Latency, e.ANCount = event.KindAnswer, 1, event.DNSFlagQR|event.DNSFlagRD|event.DNSFlagRA, 300*time.Microsecond, 1
			e.Answers = []event.Answer{{Type: event.TypeAAAA, TTL: 60, RDLength: 16, Addr: netip.MustParseAddr("2001:db8::7")}}
		}
		var err error
		if recs, err = e.AppendBinary(recs); err != nil {
			t.Fatal(err)
		}
	}
	dev := filepath.Join(t.TempDir(), "records")
	if err := os.WriteFile(dev, recs, 0o600); err != nil {
		t.Fatal(err)
	}
	// The first query as a module of the second record version writes it.
	old := append([]byte{}, recs[:event.SizeV2]...)
	binary.LittleEndian.PutUint16(old[0:], event.VersionMalformed)
	binary.LittleEndian.PutUint16(old[2:], event.SizeV2)
	oldDev := filepath.Join(t.TempDir(), "old-records")
	if err := os.WriteFile(oldDev, old, 0o600); err != nil {
		t.Fatal(err)
	}
	responsesOff := fstest.MapFS{"sys/module/dnsmon/parameters/responses": {Data: []byte("N\n")}}
	tests := map[string]struct {
		args      []string
		opts      []watch.Option
		wantLines int
		wantIn    string
		wantErrIn string // on stderr
		wantErr   string
		wantKind  error
	}{
		"text": {args: []string{"--device", dev}, wantLines: 4, wantIn: " netns=4026531840 udp [::1]:53 answer AAAA example.org NOERROR [rd ra] 300µs AAAA 2001:db8::7 ttl=60\n",
			wantErrIn: "dnsmon-watch: " + dev + " went away (the dnsmon module was unloaded)\n"},
		"json": {args: []string{"--json", "--device", dev}, wantLines: 4, wantIn: `"answers":[{"type":"AAAA","ttl":60,"data":"2001:db8::7"}]`},
		// The answer is not counted.
		"count":     {args: []string{"--json", "--device", dev, "--count", "2"}, wantLines: 3, wantIn: `"server":"::1"`},
		"stats":     {args: []string{"--stats", "--device", dev}, wantErr: "is " + dev + " the dnsmon device?"},
		"missing":   {args: []string{"--device", dev + ".absent"}, wantKind: watch.ErrNoDevice, wantErr: "does not exist"},
		"bad count": {args: []string{"--count", "-3"}, wantErr: "--count -3: must be 0"},
		"help":      {args: []string{"--help"}, wantKind: flag.ErrHelp},
		// One lookup ended; the other two queries are still waiting.
		"lookups": {args: []string{"--lookups", "--device", dev}, wantLines: 1,
			wantIn: " netns=4026531840 udp [::1]:53 AAAA example.org → NOERROR 2001:db8::7 300µs\n"},
		"lookups json": {args: []string{"--lookups", "--json", "--device", dev}, wantLines: 1,
			wantIn: `"latency_us":300,"query_time":"2025-11-27T10:00:00Z"}`},
		"lookups count": {args: []string{"--lookups", "--count", "1", "--device", dev}, wantLines: 1, wantIn: "→ NOERROR"},
		"lookups, queries only": {args: []string{"--lookups", "--device", oldDev}, wantKind: watch.ErrNoAnswers,
			wantErr: "--lookups: the loaded dnsmon module reports queries only (record version 2); load a module of this release"},
		"lookups, responses=0": {args: []string{"--lookups", "--device", dev}, opts: []watch.Option{watch.WithFS(responsesOff)}, wantKind: watch.ErrNoAnswers,
			wantErr: "--lookups: the dnsmon module was loaded with responses=0: load it with responses=1"},
		"queries only, without lookups": {args: []string{"--device", oldDev}, wantLines: 1, wantIn: "AAAA example.org\n"},
		"stats and lookups":             {args: []string{"--stats", "--lookups"}, wantErr: "it takes no --count, --timeout or --lookups"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), &out, &errOut, tc.args, append([]watch.Option{watch.WithLocation(time.UTC)}, tc.opts...)...)
			if tc.wantErr != "" || tc.wantKind != nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.wantKind != nil && !errors.Is(err, tc.wantKind)) {
					t.Fatalf("run: err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if n := strings.Count(out.String(), "\n"); n != tc.wantLines || !strings.Contains(out.String(), tc.wantIn) {
				t.Errorf("stdout (%d lines, want %d with %q):\n%s", n, tc.wantLines, tc.wantIn, out.String())
			}
			if !strings.Contains(errOut.String(), tc.wantErrIn) {
				t.Errorf("stderr %q, want %q in it", errOut.String(), tc.wantErrIn)
			}
		})
	}
}

// TestDeps keeps the customer-side binary lean: the watch loop needs no
// Docker, registry, YAML, HTTP or decompression code. (It checks the
// library this command calls, not the binary: the shared
// cmd/internal/options package also holds dnsmon-fetch's flags.)
func TestDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", "../../fetcher/watch")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/docker/", "github.com/google/go-containerregistry", "gopkg.in/yaml", "net/http", "os/exec", "runtime/cgo", "github.com/klauspost", "github.com/ulikunitz"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("dnsmon-watch depends on %s", dep)
			}
		}
	}
}
