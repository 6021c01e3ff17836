// Package clitest checks what a command makes of a library's errors.
package clitest

import (
	"errors"
	"testing"
)

// Case is one error a command explains: Want is the text users see, and
// WantIs what the explained error must still wrap, so that callers can
// test it with errors.Is.
type Case struct {
	Err    error
	Want   string
	WantIs error
}

// CheckExplain runs explain on every case, and on nil, which it must
// return unchanged.
func CheckExplain(t *testing.T, explain func(error) error, cases map[string]Case) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := explain(tc.Err)
			if got == nil || got.Error() != tc.Want {
				t.Fatalf("explain(%v) = %v, want %s", tc.Err, got, tc.Want)
			}
			if !errors.Is(got, tc.WantIs) {
				t.Errorf("explain(%v) does not wrap %v", tc.Err, tc.WantIs)
			}
		})
	}
	if explain(nil) != nil {
		t.Error("explain(nil) is not nil")
	}
}
