package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dnsmon/dnsmon/kmod/event"
)

// Device is an open /dev/dnsmon.
type Device interface {
	// Read reads whole records into p, waiting until there are some. It
	// returns ctx.Err() once ctx is done and io.EOF when the device goes
	// away (end of file, ENODEV, hang-up).
	Read(ctx context.Context, p []byte) (int, error)
	// Stats returns the module's counters (DNSMON_IOC_STATS).
	Stats() (event.Stats, error)
	Close() error
}

// pollInterval bounds how long a Read waits in poll(2) before it looks at
// its context again.
const pollInterval = 200 * time.Millisecond

// fdDevice reads a device opened O_NONBLOCK, waiting in poll(2).
type fdDevice struct {
	fd   int
	path string
}

var _ Device = (*fdDevice)(nil)

// OpenDevice opens the dnsmon device at path for reading. The error wraps
// the open's errno; Watch and PrintStats turn it into advice.
func OpenDevice(path string) (Device, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &openError{path: path, err: err}
	}
	return &fdDevice{fd: fd, path: path}, nil
}

type openError struct {
	path string
	err  error
}

func (e *openError) Error() string { return fmt.Sprintf("opening %s: %v", e.path, e.err) }
func (e *openError) Unwrap() error { return e.err }

func (d *fdDevice) Read(ctx context.Context, p []byte) (int, error) {
	fds := []unix.PollFd{{Fd: int32(d.fd), Events: unix.POLLIN}}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := unix.Read(d.fd, p)
		switch {
		case err == nil && n > 0:
			return n, nil
		case err == nil: // n == 0
			return 0, io.EOF
		case errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
			return 0, io.EOF
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EAGAIN):
			return 0, fmt.Errorf("reading %s: %w", d.path, err)
		}
		if _, err := unix.Poll(fds, int(pollInterval/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			return 0, fmt.Errorf("polling %s: %w", d.path, err)
		}
		// Readable, hung up, or timed out: the next read tells which.
	}
}

// Stats asks for the current counters and, while the module does not know
// the request (ENOTTY: a module of an earlier version), for the earlier
// versions' counters, newest first.
func (d *fdDevice) Stats() (event.Stats, error) {
	var buf [event.StatsSize]byte
	var errno unix.Errno
	for _, req := range []struct {
		ioctl uintptr
		size  int
	}{
		{event.IoctlStats, event.StatsSize},
		{event.IoctlStatsV2, event.StatsV2Size},
		{event.IoctlStatsV1, event.StatsV1Size},
	} {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), req.ioctl, uintptr(unsafe.Pointer(&buf[0])))
		if errno == 0 {
			return event.DecodeStats(buf[:req.size])
		}
		if errno != unix.ENOTTY {
			break
		}
	}
	return event.Stats{}, fmt.Errorf("DNSMON_IOC_STATS on %s: %w", d.path, errno)
}

func (d *fdDevice) Close() error { return unix.Close(d.fd) }

// deviceReader adapts a Device to io.Reader for event.Reader.
type deviceReader struct {
	ctx context.Context
	dev Device
}

func (r deviceReader) Read(p []byte) (int, error) { return r.dev.Read(r.ctx, p) }
