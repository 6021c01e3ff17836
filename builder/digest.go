package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/distribution/reference"

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

// resolveBase returns what t's base image is by content: "NAME@sha256:HEX"
// for a registry image, the tag of an image the farm made itself from a
// debootstrap recipe (which the tag hashes). Called once per headers image,
// after the pull.
func (e *engine) resolveBase(ctx context.Context, t matrix.Target) (string, error) {
	ref := BaseImage(t)
	if t.Debootstrap != nil {
		return ref, nil
	}
	img, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		return "", targetError(t, "resolving the base image of", fmt.Errorf("inspecting %q: %w", ref, err))
	}
	return baseDigest(t, img.RepoDigests)
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
