package builder

import (
	"errors"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

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

// fakeTagDigest is the digest the fake registry says ref's tag names,
// unless told otherwise.
func fakeTagDigest(ref string) string {
	_, d, _ := strings.Cut(registryDigest(ref), "@")
	return d
}

// pinnedTo is tg with its image pinned to digest d, as the engine pins it.
func pinnedTo(tg matrix.Target, d string) matrix.Target {
	tg.Image += "@" + d
	return tg
}

// TestBuildRecordsBase checks that a module records what its headers
// image was made from by content, that the headers container starts from
// the ID of the image checked, that a tag is built on the image the
// registry says it names now (the engine's image of it when the registry
// cannot be asked), and that a base image that is not what kernels.yaml
// pins, or that no registry named, fails its target before any headers
// image is made.
func TestBuildRecordsBase(t *testing.T) {
	const kernel = "5.14.0-427.13.1.el9_4.x86_64"
	tag := imageTarget(kernel)
	pinned := imageTarget(kernel)
	pinned.Image = "docker.io/rockylinux/rockylinux:9@" + digestA
	unreachable := errors.New("dial tcp: lookup registry-1.docker.io: i/o timeout")
	tests := map[string]struct {
		target matrix.Target
		// present, when set, is the engine's image of the target's
		// reference before the build, with these repo digests.
		present []string
		// distErr fails every question to the registry.
		distErr error
		want    string
		// wantErr is in the error; wantDigestErr makes it a
		// *BaseDigestError.
		wantErr       string
		wantDigestErr bool
		wantPulls     int
		wantAsked     int // questions to the registry
	}{
		"tag, pulled": {target: tag, wantPulls: 1, wantAsked: 1,
			want: "docker.io/rockylinux/rockylinux@" + fakeTagDigest(tag.Image)},
		"tag moved since the engine's pull": {target: tag, present: []string{"rockylinux/rockylinux@" + digestB}, wantPulls: 1, wantAsked: 1,
			want: "docker.io/rockylinux/rockylinux@" + fakeTagDigest(tag.Image)},
		"tag, registry unreachable, image present": {target: tag, present: []string{"rockylinux/rockylinux@" + digestB}, distErr: unreachable,
			wantAsked: 3, want: "docker.io/rockylinux/rockylinux@" + digestB},
		"tag, registry unreachable, no image": {target: tag, distErr: unreachable, wantAsked: 3,
			wantErr: "asking the registry which digest docker.io/rockylinux/rockylinux:9 names"},
		"tag, registry unreachable, built locally": {target: tag, present: []string{}, distErr: unreachable, wantAsked: 3,
			wantErr: "has no digest from its registry", wantDigestErr: true},
		"tag unknown to the registry": {target: tag, distErr: cerrdefs.ErrNotFound, wantAsked: 1, wantErr: ErrImageNotFound.Error()},
		"pinned, pulled":              {target: pinned, wantPulls: 1, want: "docker.io/rockylinux/rockylinux@" + digestA},
		"pinned, replaced": {target: pinned, present: []string{"rockylinux/rockylinux@" + digestB},
			wantErr: "is not the pinned " + digestA, wantDigestErr: true},
		"debootstrap": {target: debTarget("6.1.0-50-amd64"), present: []string{},
			want: BaseImage(debTarget("6.1.0-50-amd64"))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.run = okRun
			f.distErr = tc.distErr
			if tc.present != nil {
				f.images[BaseImage(tc.target)] = true
				f.repoDigests[BaseImage(tc.target)] = tc.present
			}
			m, err := newFakeEngine(t, f).Build(t.Context(), tc.target)
			if f.pulls != tc.wantPulls || f.distCalls != tc.wantAsked {
				t.Errorf("%d pulls, %d questions to the registry; want %d, %d", f.pulls, f.distCalls, tc.wantPulls, tc.wantAsked)
			}
			if tc.wantErr != "" {
				var be *BaseDigestError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.target.Image) ||
					errors.As(err, &be) != tc.wantDigestErr {
					t.Fatalf("Build: %v, want an error naming %s: %q (a *BaseDigestError: %v)", err, tc.target.Image, tc.wantErr, tc.wantDigestErr)
				}
				if len(f.commits) != 0 || len(f.createdFrom) != 0 {
					t.Errorf("made %q from it", f.commits)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			headers := m.BuilderImage
			if m.BaseImage != tc.want || f.labels[headers][LabelBase] != tc.want {
				t.Errorf("base %q, label %q; want %q", m.BaseImage, f.labels[headers][LabelBase], tc.want)
			}
			if m.Target.Image != tc.target.Image {
				t.Errorf("module's target image %q, want the target's own %q", m.Target.Image, tc.target.Image)
			}
			// The headers container starts from the image checked, by ID.
			checked, ok := f.lookup(tc.want)
			if !ok || len(f.createdFrom) == 0 || f.createdFrom[0] != fakeID(checked) {
				t.Errorf("headers container from %q, want the ID of the image of %s (%s)", f.createdFrom, tc.want, fakeID(checked))
			}
		})
	}
}

// TestKeyFollowsTheBaseDigest checks that a base image's tag is resolved
// to a digest before any build, that the key covers it (a moved tag
// means another key, so the module is built again), that the registry is
// asked once per engine (every target of a run builds on the same image,
// even if the tag moves during the run), and that an image pinned in
// kernels.yaml needs no registry.
func TestKeyFollowsTheBaseDigest(t *testing.T) {
	ctx := t.Context()
	tg := imageTarget("5.14.0-427.13.1.el9_4.x86_64")
	keyFor := func(t *testing.T, f *fakeClient, b Builder, tg matrix.Target) Key {
		t.Helper()
		k, err := b.Key(ctx, tg)
		if err != nil {
			t.Fatalf("Key: %v", err)
		}
		return k
	}
	keys := map[string]Key{}
	for _, d := range []string{digestA, digestB} {
		f := newFake()
		f.tagDigests[tg.Image] = d
		keys[d] = keyFor(t, f, newFakeEngine(t, f), tg)
		if keys[d].Recipe != RecipeHash(pinnedTo(tg, d)) {
			t.Errorf("recipe %s for a tag naming %s, want that of the image pinned to it", keys[d].Recipe, d)
		}
	}
	if keys[digestA].Recipe == keys[digestB].Recipe || keys[digestA].Digest() == keys[digestB].Digest() {
		t.Error("a tag naming another image gives the same key")
	}

	f := newFake()
	f.run = okRun
	f.tagDigests[tg.Image] = digestA
	b := newFakeEngine(t, f)
	first := keyFor(t, f, b, tg)
	f.tagDigests[tg.Image] = digestB // moved during the run
	m, err := b.Build(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != first || keyFor(t, f, b, tg) != first || f.distCalls != 1 {
		t.Errorf("key %+v after %d questions to the registry; want %+v after one", m.Key, f.distCalls, first)
	}
	if m.BaseImage != "docker.io/rockylinux/rockylinux@"+digestA || m.BuilderImage != HeadersImage(pinnedTo(tg, digestA)) {
		t.Errorf("built in %s on %s, want the headers image of the base pinned to %s", m.BuilderImage, m.BaseImage, digestA)
	}

	f = newFake()
	f.distErr = errors.New("no registry")
	pinned := pinnedTo(tg, digestA)
	if k := keyFor(t, f, newFakeEngine(t, f), pinned); k != first || f.distCalls != 0 {
		t.Errorf("pinned in kernels.yaml: key %+v after %d questions to the registry; want %+v after none", k, f.distCalls, first)
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
