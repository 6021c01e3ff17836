// Package discover finds the kernel releases whose headers a distribution
// publishes and kernels.yaml does not list yet: it reads each group's
// package indexes (Debian-style Packages files, RPM repodata) and can add
// what it found to the file, keeping its comments and order.
package discover
