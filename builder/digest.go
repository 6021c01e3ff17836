package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/registry"

	"github.com/dnsmon/dnsmon/matrix"
)

// LabelBase is the label of a headers image naming the base image it was
// made from by content (resolveBase), which every module built in it
// records.
const LabelBase = "dev.dnsmon.base"

// BaseDigestError is a registry base image the farm cannot name by
// content: the engine holds no digest of it from its registry (an image
// built or tagged locally), or, when kernels.yaml pins a digest, not that
// one.
type BaseDigestError struct {
	// Target is the target's name.
	Target string
	// Image is the group's image reference.
	Image string
	// Pinned is the digest kernels.yaml pins, "" for a tag.
	Pinned string
	// Found are the engine's RepoDigests of the image ("NAME@sha256:…").
	Found []string
}

func (e *BaseDigestError) Error() string {
	found := "none"
	if len(e.Found) > 0 {
		found = strings.Join(e.Found, ", ")
	}
	if e.Pinned == "" {
		return fmt.Sprintf("base image %s of %q has no digest from its registry (repo digests: %s): "+
			"a locally built or tagged image is not built on; remove it so the farm pulls it", e.Image, e.Target, found)
	}
	return fmt.Sprintf("base image %s of %q is not the pinned %s (repo digests: %s): "+
		"the engine's image was replaced; remove it so the farm pulls it again", e.Image, e.Target, e.Pinned, found)
}

// pin returns t with its registry base image named by digest, so that the
// recipe (imageHash), the headers image's tag and the module's Key cover
// the base image's content: as kernels.yaml pins it, else the digest the
// registry says the tag names now (tagDigest), asked once per engine. A
// moved tag then makes a new recipe, and what was built on the old image
// is built again. Debootstrap targets are returned as they are: BaseImage
// names the farm's own base by its recipe.
func (e *engine) pin(ctx context.Context, t matrix.Target) (matrix.Target, error) {
	if t.Debootstrap != nil {
		return t, nil
	}
	ref, err := matrix.ParseImage(t.Image)
	if err != nil {
		return t, targetError(t, "resolving the base image of", err)
	}
	if ref.Digest != "" {
		return t, nil
	}
	d, err := e.tagDigest(ctx, t)
	if err != nil {
		return t, err
	}
	t.Image += "@" + d
	return t, nil
}

// tagDigest returns the digest t.Image's tag names, asked of its registry
// through the engine once per engine: every target of a run builds on the
// same image, even when the tag moves during the run. When the registry
// cannot be reached, the image the engine pulled before is built on, by the
// digest that pull recorded (baseDigest); a registry that does not know the
// image fails with ErrImageNotFound.
func (e *engine) tagDigest(ctx context.Context, t matrix.Target) (string, error) {
	key := "digest " + t.Image
	err := e.flight(ctx, key, func(ctx context.Context) error {
		d, err := e.askRegistry(ctx, t)
		if err != nil {
			return err
		}
		e.mu.Lock()
		e.tagDigests[key] = d
		e.mu.Unlock()
		return nil
	})
	if err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tagDigests[key], nil
}

// askRegistry asks t.Image's registry which digest its tag names, retrying
// as pulls do, and falls back to the engine's own image of the tag.
func (e *engine) askRegistry(ctx context.Context, t matrix.Target) (string, error) {
	backoff := e.o.pullBackoff
	var err error
	for attempt := 1; ; attempt++ {
		var di registry.DistributionInspect
		di, err = e.c.DistributionInspect(ctx, t.Image, "")
		if err == nil {
			d := di.Descriptor.Digest
			if d.Validate() != nil || d.Algorithm() != "sha256" {
				return "", targetError(t, "resolving the base image of", fmt.Errorf("the registry names %s by %q, not a sha256 digest", t.Image, d))
			}
			fmt.Fprintf(e.o.log, "%s is %s\n", t.Image, d)
			return d.String(), nil
		}
		if cerrdefs.IsNotFound(err) || isNotFoundMessage(err.Error()) {
			return "", targetError(t, "resolving the base image of", fmt.Errorf("%w: %s: %v", ErrImageNotFound, t.Image, err))
		}
		if ctx.Err() != nil || attempt >= e.o.pullAttempts {
			break
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return "", targetError(t, "resolving the base image of", ctx.Err())
		}
		backoff *= 2
	}
	if ctx.Err() != nil {
		return "", targetError(t, "resolving the base image of", ctx.Err())
	}
	img, ierr := e.c.ImageInspect(ctx, t.Image)
	if ierr != nil {
		return "", targetError(t, "resolving the base image of", fmt.Errorf("asking the registry which digest %s names: %w", t.Image, err))
	}
	named, derr := baseDigest(t, img.RepoDigests)
	if derr != nil {
		return "", derr
	}
	_, d, _ := strings.Cut(named, "@")
	fmt.Fprintf(e.o.log, "cannot ask the registry which digest %s names (%v); building on the engine's image of it, %s\n", t.Image, err, d)
	return d, nil
}

// resolveBase returns what t's base image is by content, and the ID of the
// engine's image that was checked, which containers start from: a tag can
// be moved between the check and the start, an ID cannot. The content is
// "NAME@sha256:HEX" for a registry image (t pinned: checked against the
// engine's repo digests of it), the tag of an image the farm made itself
// from a debootstrap recipe (which the tag hashes). Called once per headers
// image, after the pull.
func (e *engine) resolveBase(ctx context.Context, t matrix.Target) (base, id string, err error) {
	ref := BaseImage(t)
	img, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		return "", "", targetError(t, "resolving the base image of", fmt.Errorf("inspecting %q: %w", ref, err))
	}
	if t.Debootstrap != nil {
		return ref, img.ID, nil
	}
	base, err = baseDigest(t, img.RepoDigests)
	return base, img.ID, err
}

// baseDigest picks t's base image out of the engine's RepoDigests of it:
// "NAME@sha256:HEX" of the image's own repository, the pinned digest when
// t.Image has one. A *BaseDigestError when there is none, or not the
// pinned one.
func baseDigest(t matrix.Target, repoDigests []string) (string, error) {
	want, err := matrix.ParseImage(t.Image)
	if err != nil {
		return "", targetError(t, "resolving the base image of", err)
	}
	var got []string
	for _, rd := range repoDigests {
		n, err := reference.ParseNormalizedNamed(rd)
		if err != nil || n.Name() != want.Name {
			continue
		}
		if c, ok := n.(reference.Canonical); ok {
			got = append(got, c.Digest().String())
		}
	}
	switch {
	case want.Digest != "" && slices.Contains(got, want.Digest):
		return want.Name + "@" + want.Digest, nil
	case want.Digest != "" || len(got) == 0:
		return "", &BaseDigestError{Target: t.Name(), Image: t.Image, Pinned: want.Digest, Found: slices.Clone(repoDigests)}
	}
	// Several digests (pulled once by index, once by manifest) all name
	// this image: take one the same way every time.
	slices.Sort(got)
	return want.Name + "@" + got[0], nil
}

// headersBase returns the base image a headers image was made from, as
// its LabelBase records it.
func (e *engine) headersBase(ctx context.Context, tag string) (string, error) {
	img, err := e.c.ImageInspect(ctx, tag)
	if err != nil {
		return "", fmt.Errorf("inspecting %q: %w", tag, err)
	}
	if img.Config == nil || img.Config.Labels[LabelBase] == "" {
		return "", fmt.Errorf("headers image %s records no base image (label %s): remove it so the farm makes it again", tag, LabelBase)
	}
	return img.Config.Labels[LabelBase], nil
}
