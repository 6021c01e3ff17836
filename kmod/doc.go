// Package kmod holds the dnsmon kernel module's source, embedded so that the
// farm can copy it into build containers, and the module's version.
//
// Its subpackages are the module's formats, which the farm that builds and
// publishes modules and the hosts that fetch and load them both read:
// modinfo (.modinfo and vermagic from the ELF), event (the records of
// /dev/dnsmon), modsign (module signatures), artifact (how a module is
// stored in an OCI registry) and signature (the cosign signatures over
// those manifests); atomicfile is the one helper both sides share. What
// runs on a customer host (loader, install, watch, hoststate) lives under
// fetcher, and nothing here imports it.
package kmod
