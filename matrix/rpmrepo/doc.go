// Package rpmrepo reads RPM repository metadata: it follows a repository's
// repodata/repomd.xml to its primary listing (primary.xml, .gz, .xz or .zst),
// checks the listing against the checksum repomd.xml gives, and returns the
// packages it names.
package rpmrepo
