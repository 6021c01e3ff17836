// Package e2e is the whole-system proof: it builds the module in the farm,
// publishes and bundles it, fetches a Debian kernel, packs a Go-built
// initramfs (static init, dnsmon-fetch, dnsmon-load, dnsmon-watch, the
// module and test clients), boots it in qemu under TCG with no network
// device, and reads per-scenario verdicts from the serial console. It
// imports every layer, so it sits above them all.
package e2e
