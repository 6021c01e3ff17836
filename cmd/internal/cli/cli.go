// Package cli is the main function the dnsmon commands share: a context
// that SIGINT and SIGTERM cancel, one run function, and the exit status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Run is a command's body: it parses args and does the work, writing to
// stdout and stderr.
type Run func(ctx context.Context, stdout, stderr io.Writer, args []string) error

// Main runs run with the process's arguments and exits. An error is printed
// as "name: error" and exits 1. flag.ErrHelp (the usage was printed
// already) prints nothing and exits helpStatus: the commands that need an
// action or a verb (dnsmon-fetch, dnsmon-farm) treat a bare --help as a
// failure, the others as success.
func Main(name string, helpStatus int, run Run) {
	os.Exit(status(name, helpStatus, run, os.Stdout, os.Stderr, os.Args[1:]))
}

// status is Main without the process: it returns the exit status.
func status(name string, helpStatus int, run Run, stdout, stderr io.Writer, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, stdout, stderr, args)
	stop()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return helpStatus
	}
	fmt.Fprintln(stderr, name+":", err)
	return 1
}

// Advise returns err with advice appended to its text: the libraries say
// what went wrong, and only the command knows the flags and commands that
// fix it. errors.Is and errors.As still see err.
func Advise(err error, advice string) error {
	return &advised{err: err, text: err.Error() + advice}
}

// Reword returns err with text as its whole message, for a library error
// whose facts the command says better in its own flags' terms.
func Reword(err error, text string) error {
	return &advised{err: err, text: text}
}

// advised is an error with the command's wording.
type advised struct {
	err  error
	text string
}

func (a *advised) Error() string { return a.text }
func (a *advised) Unwrap() error { return a.err }
