package builder

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dnsmon/dnsmon/kmod/boundedio"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Labels on every container the builder creates, so that orphans left by a
// killed farm can be found and removed (ReapDead). LabelFarm is also on
// every image it makes, so that its dangling images can be (RemoveDangling).
const (
	LabelFarm   = "dev.dnsmon.farm"
	LabelTarget = "dev.dnsmon.target"
	LabelPID    = "dev.dnsmon.pid"
)

func labels(what string) map[string]string {
	return map[string]string{LabelFarm: "1", LabelTarget: what, LabelPID: fmt.Sprint(os.Getpid())}
}

// cleanupTimeout bounds container removal after the build's context ended.
const cleanupTimeout = 30 * time.Second

// createContainer creates a container under a random name and returns its
// ID. A create that fails, e.g. because ctx was cancelled while the engine
// was making the container, may still have made it: it is removed by that
// name, so that not even a cancelled create leaves a container behind.
func createContainer(ctx context.Context, c Client, cfg *container.Config, host *container.HostConfig) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	name := "dnsmon-" + hex.EncodeToString(b[:])
	created, err := c.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		if rerr := removeContainer(ctx, c, name); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			err = errors.Join(err, rerr)
		}
		return "", err
	}
	return created.ID, nil
}

// removeContainer force-removes a container with a fresh short context, so
// that it also runs after ctx was cancelled.
func removeContainer(ctx context.Context, c Client, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		return fmt.Errorf("removing container %s: %w", shortID(id), err)
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// runContainer starts a created container, waits for it to exit and returns
// its exit status and combined output.
func runContainer(ctx context.Context, c Client, id string) (int, []byte, error) {
	waitC, errC := c.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := c.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return -1, nil, fmt.Errorf("starting container %s: %w", shortID(id), err)
	}
	var status int
	select {
	case r := <-waitC:
		if r.Error != nil && r.Error.Message != "" {
			return -1, nil, fmt.Errorf("waiting for container %s: %s", shortID(id), r.Error.Message)
		}
		status = int(r.StatusCode)
	case err := <-errC:
		if ctx.Err() != nil {
			return -1, nil, ctx.Err()
		}
		return -1, nil, fmt.Errorf("waiting for container %s: %w", shortID(id), err)
	case <-ctx.Done():
		return -1, nil, ctx.Err()
	}
	logs, err := containerLogs(ctx, c, id)
	if err != nil {
		return status, logs, err
	}
	return status, logs, nil
}

func containerLogs(ctx context.Context, c Client, id string) ([]byte, error) {
	rc, err := c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil, fmt.Errorf("reading logs of container %s: %w", shortID(id), err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return buf.Bytes(), fmt.Errorf("reading logs of container %s: %w", shortID(id), err)
	}
	return buf.Bytes(), nil
}

// sourceTar writes src as a tar stream under dir/.
func sourceTar(src fs.FS, dir string) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: mtime}); err != nil {
		return nil, err
	}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		name := dir + "/" + p
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: mtime})
		case d.Type().IsRegular():
			b, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}); err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("packing module source: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("packing module source: %w", err)
	}
	return &buf, nil
}

// copyFileOut reads one regular file out of a container: the built module,
// so it is held to the module format's cap.
func copyFileOut(ctx context.Context, c Client, id, path string) ([]byte, error) {
	rc, _, err := c.CopyFromContainer(ctx, id, path)
	if err != nil {
		return nil, fmt.Errorf("copying %s out of container %s: %w", path, shortID(id), err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("copying %s out of container %s: no regular file in the archive", path, shortID(id))
		}
		if err != nil {
			return nil, fmt.Errorf("copying %s out of container %s: %w", path, shortID(id), err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > modinfo.DefaultMaxModuleSize {
			return nil, fmt.Errorf("copying %s out of container %s: %d bytes is too large", path, shortID(id), h.Size)
		}
		b, err := boundedio.ReadAll(tr, modinfo.DefaultMaxModuleSize)
		if err != nil {
			return nil, fmt.Errorf("copying %s out of container %s: %w", path, shortID(id), err)
		}
		return b, nil
	}
}

// Orphans lists the IDs of containers carrying the builder's label.
func Orphans(ctx context.Context, c Client) ([]string, error) {
	return listLabelled(ctx, c, LabelFarm+"=1")
}

// ContainersOf lists the IDs of the builder containers that process pid
// created: on an engine shared by several farms, the ones a farm answers for.
func ContainersOf(ctx context.Context, c Client, pid int) ([]string, error) {
	return listLabelled(ctx, c, LabelFarm+"=1", fmt.Sprintf("%s=%d", LabelPID, pid))
}

// listLabelled lists the IDs of containers carrying every label given.
func listLabelled(ctx context.Context, c Client, labels ...string) ([]string, error) {
	f := filters.NewArgs()
	for _, l := range labels {
		f.Add("label", l)
	}
	cs, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing builder containers: %w", err)
	}
	var ids []string
	for _, s := range cs {
		ids = append(ids, s.ID)
	}
	return ids, nil
}

// Reap removes every container carrying the builder's label, e.g. those a
// killed farm left behind. Do not call it while another farm runs on the
// same engine.
func Reap(ctx context.Context, c Client) (int, error) {
	ids, err := Orphans(ctx, c)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		errs = append(errs, removeContainer(ctx, c, id))
	}
	return len(ids), errors.Join(errs...)
}

// ReapDead removes the builder containers whose farm process is gone: a
// farm killed with SIGKILL cannot remove its own, so the next one does.
// Containers of farms still running (on this host, by the PID label) are
// left alone, so it is safe while other farms share the engine.
func ReapDead(ctx context.Context, c Client) (int, error) {
	f := filters.NewArgs(filters.Arg("label", LabelFarm+"=1"))
	cs, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("listing builder containers: %w", err)
	}
	var errs []error
	n := 0
	for _, s := range cs {
		pid, err := strconv.Atoi(s.Labels[LabelPID])
		if err == nil && pid > 0 && processAlive(pid) {
			continue
		}
		errs = append(errs, removeContainer(ctx, c, s.ID))
		n++
	}
	return n, errors.Join(errs...)
}

// processAlive reports whether pid names a live process on this host.
func processAlive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
