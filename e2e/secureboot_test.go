package e2e

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/kmod/modsign"
)

// SigningTools are the programs of the module signing guests.
var SigningTools = []Tool{
	{Pkg: "./e2e/internal/signinit", Path: "/init"},
	{Pkg: "./cmd/dnsmon-load", Path: "/bin/dnsmon-load"},
}

// signingKernels are the kernels TestSecureBoot boots: Debian's 6.1, the
// newest kernel of the matrix, and Ubuntu 24.04's GA kernel, which, like
// Debian's, loads the firmware db's certificates into a keyring it checks
// modules against; their modules come from the farm.
// DNSMON_SB_KERNELS=suite[:flavour],... overrides.
var signingKernels = []guestKernel{{"bookworm", "amd64"}, {"experimental", "amd64"}, {"noble", "generic"}}

// sbCase is one module a guest tries to load.
type sbCase struct {
	name string
	data []byte
	want string // "load", "refuse" or "refuse-enrol"
}

// TestSecureBoot boots Debian and Ubuntu kernels under OVMF with module.sig_enforce=1:
// with our certificate in the firmware's db, the module signed by the
// farm (builder.WithModuleSigner) loads (and reports a query) while the unsigned module and
// copies with one signature or code byte flipped are refused with
// dnsmon-load's sentence; with Debian's plain variable store the signed
// module is refused, and dnsmon-load prints the enrolment steps for the
// certificate at hoststate.DefaultCertPath before it tries.
func TestSecureBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots qemu guests with OVMF")
	}
	ctx := t.Context()
	c, root := guestSetup(t)
	tools, err := BuildTools(ctx, root, t.TempDir(), SigningTools)
	if err != nil {
		t.Fatal(err)
	}
	key, err := testSigningKey(filepath.Join(c.CacheRoot(), "modsign-test"))
	if err != nil {
		t.Fatal(err)
	}
	// The farm's signing path: BuildOne builds (or finds) the module and
	// signs it with builder.SignModule, as dnsmon-farm build --module-key does.
	farm := &FarmModules{KernelsFile: filepath.Join(root, "kernels.yaml"),
		Options: []builder.Option{builder.WithLog(io.Discard), builder.WithModuleSigner(key)}}
	dir := t.TempDir()
	dbVars := filepath.Join(dir, "vars-db.fd")
	if err := WriteVarsWithDB(OVMFVars, dbVars, [][]byte{key.Cert.Raw}, time.Now()); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(c.CacheRoot(), "guest-logs")
	kernels := kernelsFromEnv("DNSMON_SB_KERNELS", signingKernels)
	for _, gk := range kernels {
		t.Run(gk.name(), func(t *testing.T) {
			gp, err := prepareGuest(ctx, c, root, gk, farm)
			if err != nil {
				t.Fatal(err)
			}
			k, vmlinuz, koPath := gp.k, gp.vmlinuz, gp.ko
			cases, err := signingCases(koPath, key, k.Release)
			if err != nil {
				t.Fatal(err)
			}
			plain := filepath.Join(t.TempDir(), "vars-plain.fd")
			if b, err := os.ReadFile(OVMFVars); err != nil {
				t.Fatal(err)
			} else if err := os.WriteFile(plain, b, 0o644); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "vars-db.fd")
			if b, err := os.ReadFile(dbVars); err != nil {
				t.Fatal(err)
			} else if err := os.WriteFile(db, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, boot := range []struct {
				name, vars, db string
				cases          []sbCase
			}{
				{"db", db, "yes", cases},
				{"plain", plain, "no", []sbCase{{name: "signed-not-enrolled", data: cases[0].data, want: "refuse-enrol"}}},
			} {
				t.Run(boot.name, func(t *testing.T) {
					files := append([]InitramfsFile(nil), tools...)
					files = append(files,
						InitramfsFile{Path: "/cases/cert.der", Data: key.Cert.Raw},
						// where dnsmon-fetch writes it and dnsmon-load looks
						InitramfsFile{Path: hoststate.DefaultCertPath, Data: key.Cert.Raw},
						InitramfsFile{Path: "/cases/db", Data: []byte(boot.db + "\n")})
					for _, sc := range boot.cases {
						files = append(files,
							InitramfsFile{Path: "/cases/" + sc.name + ".ko", Data: sc.data},
							InitramfsFile{Path: "/cases/" + sc.name + ".want", Data: []byte(sc.want + "\n")})
					}
					initrd := filepath.Join(t.TempDir(), "initramfs.cpio")
					if err := WriteInitramfs(initrd, files); err != nil {
						t.Fatal(err)
					}
					logPath, err := NewLogPath(logDir, "sb-"+k.Release+"-"+boot.name)
					if err != nil {
						t.Fatal(err)
					}
					r, err := Run(ctx, Boot{
						Kernel: vmlinuz, Initrd: initrd, LogPath: logPath, Timeout: 4 * time.Minute,
						Append: "module.sig_enforce=1",
						Args: []string{"-machine", "q35",
							"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + OVMFCode,
							"-drive", "if=pflash,format=raw,unit=1,file=" + boot.vars},
					})
					t.Logf("%s %s: %d verdicts in %v", k.Release, boot.name, len(r.Verdicts), r.Elapsed.Round(time.Millisecond))
					failed := err != nil
					if err != nil {
						t.Error(err)
					}
					want := map[string]bool{"boot": true, "db-cert": true, "hoststate": true}
					for _, sc := range boot.cases {
						want[sc.name] = true
					}
					for _, v := range r.Verdicts {
						delete(want, v.Scenario)
						if v.Status != Pass {
							failed = true
							t.Errorf("%s %s: %s: %s %s", k.Release, boot.name, v.Scenario, v.Status, v.Detail)
						}
					}
					for s := range want {
						failed = true
						t.Errorf("%s %s: no verdict for %s", k.Release, boot.name, s)
					}
					if failed || os.Getenv("DNSMON_GUEST_KEEP_LOGS") != "" {
						t.Logf("console log kept: %s", logPath)
					} else {
						os.Remove(logPath)
					}
				})
			}
		})
	}
}

// testSigningKey returns the module signing key pair the Secure Boot tests
// sign with, made once and kept in dir so the signed modules stay cached.
func testSigningKey(dir string) (*modsign.KeyPair, error) {
	p, err := modsign.LoadKeyPair(filepath.Join(dir, modsign.KeyFile), filepath.Join(dir, modsign.CertFile))
	if err == nil && time.Now().Before(p.Cert.NotAfter.Add(-24*time.Hour)) {
		return p, nil
	}
	if p, err = modsign.NewSigningKey("", modsign.WithBits(2048)); err != nil {
		return nil, err
	}
	if _, _, _, err := p.WriteFiles(dir); err != nil {
		return nil, err
	}
	return p, nil
}

// signingCases makes the modules a db guest loads from the farm's signed
// module: signed (first), unsigned, and signed with one byte of the
// signature or of .text flipped.
func signingCases(koPath string, key *modsign.KeyPair, release string) ([]sbCase, error) {
	signed, err := os.ReadFile(koPath)
	if err != nil {
		return nil, err
	}
	s, err := modsign.Verify(signed, key.Cert)
	if err != nil {
		return nil, fmt.Errorf("the farm's module %s: %w", koPath, err)
	}
	if want, _ := modsign.FormatFor(release); s.Format != want {
		return nil, fmt.Errorf("the farm signed %s in the %v format, want %v", koPath, s.Format, want)
	}
	unsigned, err := modsign.Strip(signed)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(unsigned))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", koPath, err)
	}
	text := f.Section(".text")
	if text == nil || text.Size == 0 || text.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%s has no .text", koPath)
	}
	codeAt := int(text.Offset + text.Size/2)
	// The RSA signature is the last field of the PKCS#7 DER and of the
	// X509ID data: flip a byte well inside it.
	sigAt := len(signed) - len(modsign.Magic) - 12 - 16
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0xff
		return c
	}
	return []sbCase{
		{name: "signed", data: signed, want: "load"},
		{name: "unsigned", data: unsigned, want: "refuse"},
		{name: "flipped-signature", data: flip(signed, sigAt), want: "refuse"},
		{name: "flipped-code", data: flip(signed, codeAt), want: "refuse"},
	}, nil
}
