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
// batch of records per Read. Records of versions 1 and 2 are SizeV2 bytes,
// those of version 3 Size: each record's version says how long it is. The
// device returns whole records of its one version; a Reader also copes with
// a stream that splits them (a pipe, a file).
type Reader struct {
	r          io.Reader
	buf        []byte
	start, end int
	version    uint16 // of the record Next decoded last
	err        error  // sticky
}

// NewReader returns a Reader reading batch records per Read call (batch <= 0
// means DefaultBatch). Its buffer holds batch records of the largest size.
func NewReader(r io.Reader, batch int) *Reader {
	if batch <= 0 {
		batch = DefaultBatch
	}
	return &Reader{r: r, buf: make([]byte, batch*Size)}
}

// Buffered returns how many whole records are decoded without another read.
func (r *Reader) Buffered() int {
	n := 0
	for at := r.start; ; n++ {
		size, _ := recordAt(r.buf[at:r.end])
		if size == 0 || r.end-at < size {
			return n
		}
		at += size
	}
}

// recordAt returns the size of the record b starts with, from its version:
// 0 while b is shorter than the header, and a *VersionError for a version
// this package does not read.
func recordAt(b []byte) (int, error) {
	v, _, err := Header(b)
	if err != nil {
		return 0, nil
	}
	size := RecordSize(v)
	if size == 0 {
		return 0, &VersionError{Version: v}
	}
	return size, nil
}

// Next returns the next event. At the end of the stream it returns io.EOF,
// or io.ErrUnexpectedEOF when the stream ended inside a record. Errors of
// the underlying reader are returned as they are; a record that does not
// decode (*VersionError, *SizeError, ErrMalformed) stops the Reader, since
// the records after it cannot be trusted to line up.
func (r *Reader) Next() (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	size, err := r.fill()
	if err != nil {
		return Event{}, err
	}
	rec := r.buf[r.start : r.start+size]
	e, err := Decode(rec)
	if err != nil {
		r.err = fmt.Errorf("decoding record: %w", err)
		return Event{}, r.err
	}
	r.version, _, _ = Header(rec)
	r.start += size
	return e, nil
}

// Version returns the record version of the event Next returned last, 0
// before the first: an Event does not say whether it came from a module
// that reports queries only (versions 1 and 2) or from one that can also
// report answers.
func (r *Reader) Version() uint16 { return r.version }

// fill reads until the buffer holds the whole next record, and returns its
// size.
func (r *Reader) fill() (int, error) {
	for empty := 0; ; {
		size, err := recordAt(r.buf[r.start:r.end])
		if err != nil {
			r.err = fmt.Errorf("decoding record: %w", err)
			return 0, r.err
		}
		if size != 0 && r.end-r.start >= size {
			return size, nil
		}
		if r.start > 0 {
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if size, herr := recordAt(r.buf[r.start:r.end]); herr != nil || size != 0 && r.end-r.start >= size {
			continue // decode what we have; a pending error comes back on the next read
		}
		switch {
		case errors.Is(err, io.EOF):
			if r.end > r.start {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, io.EOF
		case err != nil:
			return 0, err
		case n == 0:
			if empty++; empty >= maxEmptyReads {
				return 0, io.ErrNoProgress
			}
		}
	}
}
