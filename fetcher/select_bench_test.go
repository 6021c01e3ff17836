package fetcher

import (
	"fmt"
	"testing"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// benchIndex is an index the size of a long-lived production repository:
// per distribution release, 200 kernel releases in 3 flavours.
func benchIndex() []v1.Descriptor {
	var descs []v1.Descriptor
	for _, distro := range []string{"debian-11", "debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04"} {
		for n := range 200 {
			for _, fl := range []string{"amd64", "cloud-amd64", "rt-amd64"} {
				descs = append(descs, desc(fmt.Sprintf("6.1.0-%d-%s", n, fl), distro))
			}
		}
	}
	return descs
}

// BenchmarkSelect measures artifact selection in a version's index: the
// exact release (the last entry, the worst case for the scan), and the
// nearest releases offered when the exact one is missing.
func BenchmarkSelect(b *testing.B) {
	descs := benchIndex()
	last := descs[len(descs)-1].Annotations
	b.Run(fmt.Sprintf("pick/%d", len(descs)), func(b *testing.B) {
		for b.Loop() {
			if _, ok := pick(descs, last[artifact.AnnotationRelease], "amd64"); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run(fmt.Sprintf("nearest/%d", len(descs)), func(b *testing.B) {
		for b.Loop() {
			if got := nearest(descs, "6.1.0-250-cloud-amd64", "amd64", "debian-12", 3); len(got) != 3 {
				b.Fatalf("nearest = %v", got)
			}
		}
	})
}
