// Package store reads dnsmon artifacts (see package artifact) from where
// they are kept: a registry repository over the distribution API, an OCI
// image layout directory, or an offline bundle (a zstd-compressed tar of a
// layout). The farm reads back what it published through it and hosts
// fetch through it, so it sits below both.
//
// A Source only moves bytes, a registry's and a layout directory's through
// go-containerregistry (remote, layout); ReadManifest and ReadBlob add the
// size caps and the digest checks, and every read of content goes through
// them.
package store
