// Package options holds the flags of the dnsmon commands as structs, each
// with AddFlags to register them and Validate to check them before the one
// library call a command makes.
package options
