package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGuestKernel resolves guest kernels from the live indexes: an Ubuntu
// suite through the metapackage its kernels.yaml group tracks, with its
// unsigned image; a Debian suite by its newest image; an empty flavour
// being the distribution's default.
func TestGuestKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("reads Debian's and Ubuntu's package indexes")
	}
	c, root := guestSetup(t)
	tests := []struct {
		suite, flavour string
		wantSuffix     string // of the release
		wantImage      string // prefix of the image package
	}{
		{"noble", "", "-generic", "linux-image-unsigned-6.8.0-"},
		{"noble", "generic-hwe-24.04", "-generic", "linux-image-unsigned-"},
		{"noble", "aws", "-aws", "linux-image-unsigned-"},
		{"xenial", "", "-generic", "linux-image-unsigned-4.4.0-"},
		{"bookworm", "", "-amd64", "linux-image-6.1.0-"},
		{"bookworm", "rt-amd64", "-rt-amd64", "linux-image-6.1.0-"},
	}
	for _, tc := range tests {
		k, err := GuestKernel(t.Context(), c, filepath.Join(root, "kernels.yaml"), tc.suite, tc.flavour)
		if err != nil {
			t.Errorf("%s:%s: %v", tc.suite, tc.flavour, err)
			continue
		}
		if !strings.HasSuffix(k.Release, tc.wantSuffix) || !strings.HasPrefix(k.Image.Name, tc.wantImage) || k.Suite != tc.suite {
			t.Errorf("%s:%s: release %s, image %s, suite %s; want *%s, %s*, %s", tc.suite, tc.flavour, k.Release, k.Image.Name, k.Suite, tc.wantSuffix, tc.wantImage, tc.suite)
		}
	}
	if _, err := GuestKernel(t.Context(), c, filepath.Join(root, "kernels.yaml"), "noble", "no-such-flavour"); err == nil {
		t.Error("GuestKernel resolved a flavour noble has no metapackage for")
	}
}
