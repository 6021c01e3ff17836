// Package cache bounds the farm's cache directory: it removes the header
// trees, downloaded packages and builder images that were not used
// recently, least recently used first, and never what a running build uses
// or the only copy of the headers of a kernel kernels.yaml still lists.
package cache
