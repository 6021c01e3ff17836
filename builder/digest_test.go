package builder

import (
	"errors"
	"strings"
	"testing"

	"github.com/dnsmon/dnsmon/matrix"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestBaseDigest(t *testing.T) {
	tests := map[string]struct {
		image       string
		repoDigests []string
		want        string
		pinned      string // of the *BaseDigestError, when want is ""
	}{
		"tag": {image: "docker.io/library/centos:7", repoDigests: []string{"centos@" + digestA},
			want: "docker.io/library/centos@" + digestA},
		"short name": {image: "rockylinux/rockylinux:9", repoDigests: []string{"rockylinux/rockylinux@" + digestB},
			want: "docker.io/rockylinux/rockylinux@" + digestB},
		"two digests": {image: "almalinux:9", repoDigests: []string{"almalinux@" + digestB, "almalinux@" + digestA},
			want: "docker.io/library/almalinux@" + digestA},
		"pinned": {image: "centos:7@" + digestB, repoDigests: []string{"centos@" + digestA, "centos@" + digestB},
			want: "docker.io/library/centos@" + digestB},
		"pinned, other content": {image: "centos:7@" + digestB, repoDigests: []string{"centos@" + digestA},
			pinned: digestB},
		"built locally": {image: "centos:7"},
		// `docker tag evil/centos:7 centos:7` keeps evil's repo digest.
		"tagged locally": {image: "centos:7", repoDigests: []string{"evil/centos@" + digestA}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tg := imageTarget("5.14.0-427.13.1.el9_4.x86_64")
			tg.Image = tc.image
			got, err := baseDigest(tg, tc.repoDigests)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("baseDigest = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var be *BaseDigestError
			if !errors.As(err, &be) || be.Pinned != tc.pinned || be.Image != tc.image || be.Target != tg.Name() {
				t.Fatalf("baseDigest = %q, %v; want a *BaseDigestError pinning %q", got, err, tc.pinned)
			}
		})
	}
}

// TestBuildRecordsBase checks that a module records what its headers
// image was made from by content, and that a base image that is not what
// kernels.yaml pins, or that no registry named, fails its target before
// any headers image is made.
func TestBuildRecordsBase(t *testing.T) {
	const kernel = "5.14.0-427.13.1.el9_4.x86_64"
	pinned := imageTarget(kernel)
	pinned.Image = "docker.io/rockylinux/rockylinux:9@" + digestA
	tests := map[string]struct {
		target matrix.Target
		// present, when set, is the engine's image of the reference before
		// the build, with these repo digests.
		present   []string
		want      string
		wantErr   string
		wantPulls int
	}{
		"tag, pulled": {target: imageTarget(kernel), wantPulls: 1,
			want: registryDigest(imageTarget(kernel).Image)},
		"tag, present": {target: imageTarget(kernel), present: []string{"rockylinux/rockylinux@" + digestB},
			want: "docker.io/rockylinux/rockylinux@" + digestB},
		"pinned, pulled": {target: pinned, wantPulls: 1, want: "docker.io/rockylinux/rockylinux@" + digestA},
		"pinned, replaced": {target: pinned, present: []string{"rockylinux/rockylinux@" + digestB},
			wantErr: "is not the pinned " + digestA},
		"tag, built locally": {target: imageTarget(kernel), present: []string{},
			wantErr: "has no digest from its registry"},
		"debootstrap": {target: debTarget("6.1.0-50-amd64"), present: []string{},
			want: BaseImage(debTarget("6.1.0-50-amd64"))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.run = okRun
			if tc.present != nil {
				f.images[BaseImage(tc.target)] = true
				f.repoDigests[BaseImage(tc.target)] = tc.present
			}
			m, err := newFakeEngine(t, f).Build(t.Context(), tc.target)
			if f.pulls != tc.wantPulls {
				t.Errorf("%d pulls, want %d", f.pulls, tc.wantPulls)
			}
			if tc.wantErr != "" {
				var be *BaseDigestError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.target.Image) {
					t.Fatalf("Build: %v, want a *BaseDigestError naming %s: %q", err, tc.target.Image, tc.wantErr)
				}
				if len(f.commits) != 0 || len(f.created) != 0 {
					t.Errorf("made %q from it", f.commits)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if m.BaseImage != tc.want || f.labels[HeadersImage(tc.target)][LabelBase] != tc.want {
				t.Errorf("base %q, label %q; want %q", m.BaseImage, f.labels[HeadersImage(tc.target)][LabelBase], tc.want)
			}
		})
	}
}

// TestHeadersImageWithoutBase checks that a headers image that does not
// say what it was made from is not built in.
func TestHeadersImageWithoutBase(t *testing.T) {
	f := newFake()
	f.run = okRun
	tg := debTarget("6.1.0-50-amd64")
	f.images[HeadersImage(tg)] = true
	_, err := newFakeEngine(t, f).Build(t.Context(), tg)
	if err == nil || !strings.Contains(err.Error(), "records no base image") {
		t.Fatalf("Build: %v, want a refusal", err)
	}
}
