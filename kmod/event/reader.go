package event

import (
	"errors"
	"fmt"
	"io"
)

// DefaultBatch is how many records a Reader asks for per read(2).
const DefaultBatch = 64

// maxEmptyReads bounds reads that return nothing and no error, as
// io.Reader allows but a device never does.
const maxEmptyReads = 100

// Reader decodes records from a stream such as /dev/dnsmon, reading up to a
// batch of records per Read. The device returns whole records; a Reader also
// copes with a stream that splits them (a pipe, a file).
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error // sticky
}

// NewReader returns a Reader reading batch records per Read call (batch <= 0
// means DefaultBatch).
func NewReader(r io.Reader, batch int) *Reader {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &Reader{r: r, buf: make([]byte, batch*Size)}
}

// Buffered returns how many whole records are decoded without another read.
func (r *Reader) Buffered() int { return (r.end - r.start) / Size }

// Next returns the next event. At the end of the stream it returns io.EOF,
// or io.ErrUnexpectedEOF when the stream ended inside a record. Errors of
// the underlying reader are returned as they are; a record that does not
// decode (*VersionError, *SizeError, ErrMalformed) stops the Reader, since
// the records after it cannot be trusted to line up.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	for empty := 0; r.end-r.start < Size; {
		if r.start > 0 {
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if r.end-r.start >= Size {
			break // decode what we have; a pending error comes back on the next read
		}
		switch {
		case errors.Is(err, io.EOF):
			if r.end > r.start {
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, io.EOF
		case err != nil:
			return Event{}, err
		case n == 0:
			if empty++; empty >= maxEmptyReads {
				return Event{}, io.ErrNoProgress
			}
		}
	}
	e, err := Decode(r.buf[r.start : r.start+Size])
	if err != nil {
		r.err = fmt.Errorf("decoding record: %w", err)
		return Event{}, r.err
	}
	r.start += Size
	return e, nil
}
