// Package fetchertest holds test helpers for publishing and fetching: fake
// kernel module files and a real registry server (Debian's docker-registry)
// on 127.0.0.1.
package fetchertest
