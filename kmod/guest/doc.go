// Package guest proves the module on real kernels: it fetches a Debian
// kernel, packs a Go-built initramfs (static init, dnsmon-load, dnsmon-watch,
// the module and test clients), boots it in qemu under TCG with no network
// device, and reads per-scenario verdicts from the serial console.
package guest
