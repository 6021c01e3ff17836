// Package fetcher picks, verifies and installs the prebuilt dnsmon module
// for a kernel: host detection, artifact selection from a registry
// repository, an OCI image layout or an offline bundle, digest, signature
// and vermagic checks, and the atomic write the loader reads.
package fetcher
