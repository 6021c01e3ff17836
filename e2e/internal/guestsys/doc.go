// Package guestsys holds the system calls the test guests' init programs
// share: mounting the pseudo file systems, bringing up loopback, reading
// the kernel log, powering off.
package guestsys
