package proto

// StressMode is the kernel command line parameter that makes the guest init
// load and unload the module over and over while every CPU sends DNS
// queries and readers open, poll, read and close /dev/dnsmon: the unload
// race an -smp 1 guest cannot show.
const StressMode = "dnsmon.mode=stress"

// StressSeconds, as StressSeconds+"=N", runs the unload loop for up to N
// seconds instead of 45: a sanitizer kernel runs several times slower and
// needs longer for the same number of cycles.
const StressSeconds = "dnsmon.stress_seconds"
