package debian

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/ulikunitz/xz"
)

// newXZReader decompresses r, with the xz command when one is installed:
// liblzma decodes a kernel's header package two to three times as fast as
// the pure-Go decoder (0.5 s against 1.2 s for Debian 6.1's -common), and in
// another process, beside the extraction that reads it. Without xz the Go
// decoder does the same work. The caller must call close, which stops the
// command if the reader was not read to its end; xz's errors come from Read.
func newXZReader(r io.Reader) (rc io.Reader, close func(), err error) {
	path, err := exec.LookPath("xz")
	if err != nil {
		d, err := xz.NewReader(r)
		return d, func() {}, err
	}
	c := &xzCmd{cmd: exec.Command(path, "--decompress", "--stdout", "--quiet")}
	c.cmd.Stdin = r
	c.cmd.Stderr = &c.stderr
	if c.out, err = c.cmd.StdoutPipe(); err != nil {
		return nil, nil, fmt.Errorf("xz: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("xz: %w", err)
	}
	return c, c.close, nil
}

// xzCmd reads the output of a running xz command.
type xzCmd struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr bytes.Buffer
	done   bool
	err    error // the command's result, once done
}

// Read returns xz's output; at its end, xz's own verdict: a corrupt or
// truncated stream is an error, not a short read.
func (c *xzCmd) Read(p []byte) (int, error) {
	n, err := c.out.Read(p)
	if errors.Is(err, io.EOF) {
		if werr := c.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (c *xzCmd) wait() error {
	if !c.done {
		c.done = true
		if err := c.cmd.Wait(); err != nil {
			c.err = fmt.Errorf("xz: %w: %s", err, bytes.TrimSpace(c.stderr.Bytes()))
		}
	}
	return c.err
}

// close stops xz when its output was not read to the end (a walk that
// stopped early) and reaps it.
func (c *xzCmd) close() {
	if !c.done {
		_ = c.cmd.Process.Kill()
		_ = c.wait()
	}
}
