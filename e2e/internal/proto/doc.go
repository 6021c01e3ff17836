// Package proto is the line protocol between the guest's init and the
// harness: one verdict line per scenario and a final done line on the serial
// console.
package proto
