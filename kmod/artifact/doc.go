// Package artifact defines how a dnsmon kernel module is stored in an OCI
// registry: media types, annotation keys, tag encoding, and the manifests and
// indexes that publishing writes and fetching reads.
//
// One manifest holds one module build, for one (module version, kernel
// release, architecture); one image index per module version lists every
// kernel's manifest with the kernel's release, architecture and distribution
// on its descriptor, so that a fetch needs a single index read. Beside the
// index, tag VERSION__cert holds the certificate of the key that signed the
// modules for Secure Boot (see CertTag), signed like the modules.
package artifact
