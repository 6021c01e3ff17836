package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
)

func TestCrossEnv(t *testing.T) {
	tests := []struct {
		name    string
		kernel  kernelCompiler // what the kernel's .config names
		wantCC  kernelCompiler
		wantEnv []string
	}{
		{"debian 12 arm64: gcc-12", kernelCompiler{Program: "gcc-12", Package: "gcc-12"},
			kernelCompiler{Program: "aarch64-linux-gnu-gcc-12", Package: "gcc-12-aarch64-linux-gnu"},
			[]string{"DNSMON_ARCH=arm64", "DNSMON_CROSS_COMPILE=aarch64-linux-gnu-"}},
		{"debian 13 arm64: a triplet already", kernelCompiler{Program: "aarch64-linux-gnu-gcc-14", Package: "gcc-14"},
			kernelCompiler{Program: "aarch64-linux-gnu-gcc-14", Package: "gcc-14-aarch64-linux-gnu"},
			[]string{"DNSMON_ARCH=arm64", "DNSMON_CROSS_COMPILE=aarch64-linux-gnu-"}},
		{"no compiler named", kernelCompiler{},
			kernelCompiler{Program: "aarch64-linux-gnu-gcc", Package: "gcc-aarch64-linux-gnu"},
			[]string{"DNSMON_ARCH=arm64", "DNSMON_CROSS_COMPILE=aarch64-linux-gnu-"}},
	}
	arm := matrix.Target{Arch: "arm64", Family: matrix.FamilyDeb, Method: matrix.MethodAptExtract, Debootstrap: &matrix.Debootstrap{Suite: "bookworm"}}
	for _, tc := range tests {
		env, cc, err := crossEnv(arm, tc.kernel)
		if err != nil || cc != tc.wantCC || !slices.Equal(env, tc.wantEnv) {
			t.Errorf("%s: crossEnv = %q, %+v, %v; want %q, %+v", tc.name, env, cc, err, tc.wantEnv, tc.wantCC)
		}
	}
	if _, _, err := crossEnv(matrix.Target{Arch: "riscv64"}, kernelCompiler{}); err == nil {
		t.Error("crossEnv accepted an architecture without a cross toolchain")
	}
}

func TestImageArch(t *testing.T) {
	tree := func(arch string) matrix.Target {
		return matrix.Target{Arch: arch, Family: matrix.FamilyDeb, Method: matrix.MethodAptExtract, Debootstrap: &matrix.Debootstrap{Suite: "bookworm"}}
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[farmArch]
	pulled := matrix.Target{Arch: other, Family: matrix.FamilyRPM, Method: matrix.MethodDnf, Image: "rockylinux:9"}
	tests := []struct {
		name      string
		t         matrix.Target
		wantArch  string
		wantCross bool
	}{
		{"header tree of the farm's arch", tree(farmArch), farmArch, false},
		{"header tree of another arch: the farm's image", tree(other), farmArch, true},
		{"headers image of another arch: its own", pulled, other, false},
	}
	for _, tc := range tests {
		if got := imageArch(tc.t); got != tc.wantArch || isCross(tc.t) != tc.wantCross {
			t.Errorf("%s: imageArch %s, isCross %v; want %s, %v", tc.name, got, isCross(tc.t), tc.wantArch, tc.wantCross)
		}
	}
	// The twins share one base image.
	if BaseImage(tree("amd64")) != BaseImage(tree("arm64")) {
		t.Errorf("base images differ: %s, %s", BaseImage(tree("amd64")), BaseImage(tree("arm64")))
	}
}

// TestRunnerArch checks where a publication builds each kind of group of
// the project's kernels.yaml: Debian's arm64 kernels cross-compiled on
// amd64, the arm64 groups built in their own image on arm64.
func TestRunnerArch(t *testing.T) {
	f, err := matrix.Load("../kernels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Tracked groups resolve to a made-up kernel of each flavour, one ABI
	// per question: a kernel another group lists is not added again.
	var abis atomic.Int32
	r := matrix.ResolverFunc(func(_ context.Context, q matrix.KernelQuery) (string, error) {
		abi := abis.Add(1)
		if q.Distro == "ubuntu" {
			fl, _, _ := strings.Cut(q.Flavour, "-hwe-")
			return fmt.Sprintf("6.8.0-%d-%s", abi, fl), nil
		}
		return fmt.Sprintf("6.1.0-%d-%s", abi, q.Flavour), nil
	})
	if f, err = matrix.Resolve(context.Background(), f, r); err != nil {
		t.Fatal(err)
	}
	ts, err := matrix.Expand(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"debian-12":          "amd64",
		"debian-12-arm64":    "amd64",
		"ubuntu-24.04":       "amd64",
		"ubuntu-24.04-arm64": "arm64",
		"rocky-9":            "amd64",
		"rocky-9-arm64":      "arm64",
	}
	seen := map[string]bool{}
	for _, tg := range ts {
		if w, ok := want[tg.Group]; ok {
			seen[tg.Group] = true
			if got := RunnerArch(tg); got != w {
				t.Errorf("%s: RunnerArch %s, want %s", tg.Name(), got, w)
			}
		}
	}
	for g := range want {
		if !seen[g] {
			t.Errorf("kernels.yaml has no kernel of %s", g)
		}
	}
}
