package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps dnsmon-fetch lean: it runs on customer hosts and must not
// pull in the farm (Docker client, builder, kernels.yaml parsing).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, bad := range []string{"github.com/docker/docker/", "github.com/dnsmon/dnsmon/builder", "github.com/dnsmon/dnsmon/matrix", "gopkg.in/yaml"} {
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("dnsmon-fetch depends on %s", dep)
			}
		}
	}
}
