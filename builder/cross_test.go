package builder

import (
	"slices"
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
