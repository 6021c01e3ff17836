// Package publish writes built modules as signed OCI artifacts to a
// registry repository or an OCI image layout (implementing
// builder.Publisher), and writes offline bundles: zstd-compressed tars of an
// OCI image layout that dnsmon-fetch verifies exactly like a registry.
package publish
