package e2e

import (
	"context"
	"fmt"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// FarmModules gets modules from the builder farm: each kernel's module is
// built in its suite's builder image, so kernels whose compiler the host
// lacks (5.10's gcc 10, 7.x's gcc 16) work too. Built modules are cached
// by source digest, kernel and recipe, so a second run builds nothing.
type FarmModules struct {
	// KernelsFile is the kernels.yaml whose Debian groups say how each
	// suite's builder image and headers are made.
	KernelsFile string
	// Options are passed to the builder (WithLog, WithCacheDir, ...).
	Options []builder.Option
}

var _ ModuleSource = (*FarmModules)(nil)

// Module builds (or finds in the module cache) k's module.
func (f *FarmModules) Module(ctx context.Context, k debian.Kernel) (string, error) {
	ko, err := builder.BuildForSuite(ctx, f.KernelsFile, k.Suite, k.Release, k.Arch(), f.Options...)
	if err != nil {
		return "", fmt.Errorf("building dnsmon.ko for %q: %w", k.Release, err)
	}
	return ko, nil
}
