package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
)

func TestStatus(t *testing.T) {
	tests := map[string]struct {
		err        error
		helpStatus int
		want       int
		wantStderr string
	}{
		"success":         {want: 0},
		"failure":         {err: errors.New("no module"), want: 1, wantStderr: "cmd: no module\n"},
		"help, success":   {err: flag.ErrHelp, helpStatus: 0, want: 0},
		"help, failure":   {err: flag.ErrHelp, helpStatus: 1, want: 1},
		"wrapped help":    {err: fmt.Errorf("parsing: %w", flag.ErrHelp), helpStatus: 1, want: 1},
		"failure, help 0": {err: errors.New("bad flag"), helpStatus: 0, want: 1, wantStderr: "cmd: bad flag\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var gotArgs []string
			run := func(ctx context.Context, stdout, stderr io.Writer, args []string) error {
				if ctx.Err() != nil {
					t.Error("context cancelled before run")
				}
				gotArgs = args
				return tc.err
			}
			var stderr bytes.Buffer
			got := status("cmd", tc.helpStatus, run, io.Discard, &stderr, []string{"-x", "y"})
			if got != tc.want {
				t.Errorf("status = %d, want %d", got, tc.want)
			}
			if stderr.String() != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tc.wantStderr)
			}
			if len(gotArgs) != 2 || gotArgs[0] != "-x" {
				t.Errorf("run got args %q, want [-x y]", gotArgs)
			}
		})
	}
}

func TestAdvise(t *testing.T) {
	base := errors.New("no key")
	wrapped := fmt.Errorf("fetching: %w", base)
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"advise":         {err: Advise(wrapped, ": pass --key"), want: "fetching: no key: pass --key"},
		"reword":         {err: Reword(wrapped, "--key is missing"), want: "--key is missing"},
		"advise twice":   {err: Advise(Advise(base, "; a"), "; b"), want: "no key; a; b"},
		"reword advised": {err: Reword(Advise(base, "; a"), "b"), want: "b"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errors.Is(tc.err, base) {
				t.Errorf("%v does not wrap the library's error", tc.err)
			}
		})
	}
}
