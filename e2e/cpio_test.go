package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/e2e/internal/proto"
)

func TestWriteInitramfs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("hello from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "initramfs.cpio")
	err := WriteInitramfs(out, []InitramfsFile{
		{Path: "/init", Data: []byte("#!init"), Mode: 0o755},
		{Path: "/bin/tool", Source: src, Mode: 0o755},
		{Path: "/deep/er/file.ko", Data: []byte("odd-length")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// GNU cpio, which the Makefile installs, reads it back.
	x := filepath.Join(dir, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-idm", "--no-absolute-filenames", "--quiet", "-F", out)
	cmd.Dir = x
	if b, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(b), "dev/console") {
		t.Fatalf("cpio -i: %v: %s", err, b)
	}
	tests := map[string]struct {
		content string
		mode    os.FileMode
	}{
		"init":            {"#!init", 0o755},
		"bin/tool":        {"hello from a file", 0o755},
		"deep/er/file.ko": {"odd-length", 0o644},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(x, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(p)
			if string(b) != tt.content || fi.Mode().Perm() != tt.mode {
				t.Errorf("got %q %v, want %q %v", b, fi.Mode().Perm(), tt.content, tt.mode)
			}
		})
	}
	list, err := exec.Command("cpio", "-it", "--quiet", "-F", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dev/console", "proc", "sys", "tmp", "deep/er"} {
		if !strings.Contains(string(list), want+"\n") {
			t.Errorf("archive lacks %s:\n%s", want, list)
		}
	}
}

func TestParseVerdictLine(t *testing.T) {
	tests := map[string]struct {
		line string
		ok   bool
		want proto.Verdict
	}{
		"plain":       {line: `DNSMON-VERDICT {"scenario":"udp4","status":"pass","ms":3}`, ok: true, want: proto.Verdict{Scenario: "udp4", Status: "pass", Ms: 3}},
		"after kmsg":  {line: `[    1.2] foo DNSMON-VERDICT {"scenario":"x","status":"fail","detail":"d"}`, ok: true, want: proto.Verdict{Scenario: "x", Status: "fail", Detail: "d"}},
		"cut":         {line: `DNSMON-VERDICT {"scenario":"x","sta`},
		"no scenario": {line: `DNSMON-VERDICT {"status":"pass"}`},
		"other":       {line: `guestinit: hello`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			v, ok := proto.ParseLine(tt.line)
			if ok != tt.ok || v != tt.want {
				t.Errorf("ParseLine = %+v, %v; want %+v, %v", v, ok, tt.want, tt.ok)
			}
		})
	}
	round := proto.Verdict{Scenario: "a b", Status: proto.Skip, Detail: "x\ny"}
	if v, ok := proto.ParseLine(round.Format()); !ok || v != round {
		t.Errorf("round trip: %+v", v)
	}
}
