package builder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
)

// RemoveDangling removes the farm's dangling images: untagged images that
// carry LabelFarm. An image becomes dangling when its tag is made again
// (two farms on separate cache directories making the same base or
// toolchain image at once, an image committed again over its tag), and
// nothing would ever remove it. Removal is never forced: an image that a
// container still uses (a build of another farm on the same engine) is
// skipped, as is one that another process removed first. Images without the
// label are never touched. It returns how many images it removed.
//
// An engine tags a new image just after making it; a sweep that falls in
// that instant could remove it, failing that one image's make (run again).
// docker image prune shares the window; it is too short to guard.
func RemoveDangling(ctx context.Context, c Client) (int, error) {
	f := filters.NewArgs(filters.Arg("dangling", "true"), filters.Arg("label", LabelFarm+"=1"))
	imgs, err := c.ImageList(ctx, image.ListOptions{Filters: f})
	if err != nil {
		return 0, fmt.Errorf("listing dangling builder images: %w", err)
	}
	var errs []error
	n := 0
	for _, img := range imgs {
		_, err := c.ImageRemove(ctx, img.ID, image.RemoveOptions{PruneChildren: true})
		switch {
		case err == nil:
			n++
		case cerrdefs.IsConflict(err), cerrdefs.IsNotFound(err):
			// In use by a container, or already gone.
		default:
			errs = append(errs, fmt.Errorf("removing dangling builder image %s: %w", shortID(strings.TrimPrefix(img.ID, "sha256:")), err))
		}
	}
	return n, errors.Join(errs...)
}
