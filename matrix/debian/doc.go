// Package debian reads Debian package indexes and packages: it fetches and
// caches a suite's Packages index, finds the newest kernel of a suite and
// flavour with dpkg's version ordering, downloads .deb files into the cache
// verifying the index's SHA256, and reads the data archive of a .deb.
package debian
