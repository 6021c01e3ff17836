package e2e

import (
	"context"

	"github.com/dnsmon/dnsmon/matrix/debian"
)

// ModuleSource gets a dnsmon.ko built for a kernel; FarmModules builds it in
// the kernel's suite image.
type ModuleSource interface {
	// Module returns the path of a dnsmon.ko built for k.
	Module(ctx context.Context, k debian.Kernel) (string, error)
}
