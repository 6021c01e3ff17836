// Package fetcher picks, verifies and installs the prebuilt dnsmon module
// for a kernel: host detection, artifact selection from a registry
// repository, an OCI image layout or an offline bundle, digest, signature
// and vermagic checks, and the atomic write the loader reads.
//
// Its subpackages are the rest of what runs on a customer host: loader
// (finit_module and delete_module), install (surviving reboots), watch
// (dnsmon-watch's loop), hoststate (Secure Boot and the module signing key)
// and config.
package fetcher
