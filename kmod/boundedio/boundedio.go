// Package boundedio reads small files and bodies whole, up to a cap: a
// file or a server that sends more than expected gets an error, not the
// memory of the process. DecodeJSONFile reads a small JSON file (a
// configuration, a state file) that way, strictly. It imports nothing of
// ours, so every layer can use it.
package boundedio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrTooLarge is wrapped by the errors of ReadAll and ReadFile when there
// is more to read than the cap.
var ErrTooLarge = errors.New("too large")

// ReadAll reads r to its end. It reads at most max+1 bytes: when there is
// more than max, it returns an error wrapping ErrTooLarge and no data.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		return nil, fmt.Errorf("boundedio: negative cap %d", max)
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// ReadFile reads the file name like os.ReadFile, at most max bytes; see
// ReadAll. A missing file is an error wrapping fs.ErrNotExist.
func ReadFile(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(f, max)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// DecodeJSONFile decodes the JSON file name into v, strictly: a key that v
// has no field for is an error, so a typo is not ignored. It reads at most
// max bytes (see ReadFile). A missing file is no error and leaves v as it
// was, its zero value for a file that was never written. When the file is
// there but its content does not decode, the error is a *DecodeError, so
// that a caller can say what to do about the file.
func DecodeJSONFile(name string, max int64, v any) error {
	b, err := ReadFile(name, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &DecodeError{Path: name, Err: err}
	}
	return nil
}

// DecodeError is a file whose content DecodeJSONFile could not decode. Its
// text is the decoder's alone: the caller names the file in its own terms.
type DecodeError struct {
	Path string
	Err  error
}

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// NewReadCloser returns a reader of rc that gives at most max bytes: when
// rc has more, the read past max fails with an error wrapping ErrTooLarge,
// so a body that is too long is never taken for a short one. Close closes
// rc.
func NewReadCloser(rc io.ReadCloser, max int64) io.ReadCloser {
	return &capped{rc: rc, left: max, max: max}
}

type capped struct {
	rc        io.ReadCloser
	left, max int64
	err       error
}

func (c *capped) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left <= 0 {
		// At the cap: one more byte means too large, EOF means exact.
		var one [1]byte
		n, err := c.rc.Read(one[:])
		if n > 0 {
			c.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.max)
			return 0, c.err
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.rc.Close() }
