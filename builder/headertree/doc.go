// Package headertree makes the kernel header trees the farm builds against
// for the apt families, without an image per kernel.
//
// Resolve reads a kernel's header packages and their dependencies from the
// suite's package index (which matrix/debian has checked against the signed
// InRelease): the kernel's own packages (linux-headers-*, linux-kbuild-*)
// are to be unpacked, everything else (the compiler the kernel was built
// with, pahole, libelf) belongs to the builder image. A Store downloads the
// first set once, in parallel and verified against the index, and unpacks
// it once into a directory named by the packages' digests. A build
// bind-mounts that directory read-only into a container of a prepared image,
// so a kernel never seen before costs a download, an unpack and a make.
//
// Layout under the store's directory:
//
//	trees/KEY/          one unpacked tree (KEY: Plan.Key)
//	trees/KEY/.done     written last; its mtime is the tree's last use
//	trees/KEY.lock      shared while a build reads the tree, exclusive
//	                    while it is made or pruned
//	trees/packages.lock shared while any tree is made (from its downloads
//	                    to its unpacking), exclusive while prune removes
//	                    downloaded packages
//	trees/by-target/ID  the tree an Origin (indexes and root packages)
//	                    last resolved to, and what its image must have:
//	                    how a kernel whose packages the mirror dropped is
//	                    built again
package headertree
