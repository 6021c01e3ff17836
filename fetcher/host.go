package fetcher

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Host is what the fetcher needs to know about the machine a module is for.
type Host struct {
	// Release is the kernel release (`uname -r`).
	Release string
	// Arch is the kernel architecture in GOARCH spelling.
	Arch string
	// Distro is the distribution ID from /etc/os-release ("debian").
	Distro string
	// DistroVersion is VERSION_ID from /etc/os-release ("12").
	DistroVersion string
}

// machineArch maps `uname -m` to GOARCH names.
var machineArch = map[string]string{
	"x86_64": "amd64", "amd64": "amd64", "i386": "386", "i486": "386", "i586": "386", "i686": "386",
	"aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x", "riscv64": "riscv64",
	"loongarch64": "loong64", "mips64": "mips64",
}

// ErrDetectKernel means uname(2) failed, so the running kernel's release is
// unknown; WithRelease and WithArch name the target instead.
var ErrDetectKernel = errors.New("detecting the running kernel")

// DetectHost reads the running kernel's release and machine from uname(2)
// and the distribution from /etc/os-release (or /usr/lib/os-release).
func DetectHost() (Host, error) {
	rel, mach, err := uname()
	if err != nil {
		return Host{}, fmt.Errorf("%w: %w", ErrDetectKernel, err)
	}
	h := Host{Release: rel, Arch: machineArch[mach]}
	if h.Arch == "" {
		h.Arch = runtime.GOARCH
	}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if b, err := os.ReadFile(p); err == nil {
			kv := ParseOSRelease(b)
			h.Distro, h.DistroVersion = kv["ID"], kv["VERSION_ID"]
			break
		}
	}
	return h, nil
}

// ParseOSRelease parses os-release(5) content.
func ParseOSRelease(b []byte) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `"'`)
		}
		kv[k] = v
	}
	return kv
}

// distroIDs maps os-release IDs to the distribution names of kernels.yaml.
var distroIDs = map[string]string{"almalinux": "alma", "amzn": "amazonlinux", "rhel": "rhel", "centos": "centos"}

// DistroName returns the host's distribution as artifacts annotate it:
// "ID-VERSION_ID" ("debian-12"), or the ID alone.
func (h Host) DistroName() string {
	id := strings.ToLower(h.Distro)
	if m, ok := distroIDs[id]; ok {
		id = m
	}
	if id == "" {
		return ""
	}
	if h.DistroVersion == "" {
		return id
	}
	return id + "-" + h.DistroVersion
}
