package main

import (
	"flag"
	"fmt"
	"io"
)

// parseFlags parses a verb's args into o: add registers o's flags, and o's
// Validate checks their combination. The verb takes no arguments besides
// flags. Errors, but flag's own (which it prints with the usage), start
// with the verb.
func parseFlags[T interface{ Validate() error }](verb string, stderr io.Writer, args []string, o T, add func(*flag.FlagSet, T)) error {
	fs := flag.NewFlagSet("dnsmon-farm "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	add(fs, o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", verb, fs.Args())
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return nil
}
