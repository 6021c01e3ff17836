package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/dnsmon/dnsmon/builder/internal/flock"
	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// ErrImageNotFound is returned when a registry does not have a base image;
// pulls are not retried then.
var ErrImageNotFound = errors.New("image not found")

const imagePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// imageExists reports whether the engine has ref.
func (e *engine) imageExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.c.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("inspecting image %q: %w", ref, err)
}

// ensureBase makes sure t's base image exists in the engine.
func (e *engine) ensureBase(ctx context.Context, t matrix.Target) error {
	ref := BaseImage(t)
	return e.ensureImage(ctx, ref, func(ctx context.Context) error {
		if t.Debootstrap != nil {
			return e.bootstrap(ctx, t, ref)
		}
		return e.pull(ctx, ref, "linux/"+t.Arch)
	})
}

// ensureImage makes image ref with mk unless the engine has it: once
// per engine (concurrent callers wait for the first) and once across the
// processes sharing the cache directory (a file lock, and a second look
// after it, since another process may have made it while this one waited).
// Each call records the image's use, for prune.
func (e *engine) ensureImage(ctx context.Context, ref string, mk func(context.Context) error) (err error) {
	defer func() {
		if err == nil {
			markImageUsed(e.o.cacheDir, ref)
		}
	}()
	return e.flight(ctx, ref, func(ctx context.Context) error {
		if ok, err := e.imageExists(ctx, ref); err != nil || ok {
			return err
		}
		unlock, err := flock.Exclusive(ctx, e.lockPath(ref))
		if err != nil {
			return err
		}
		defer unlock()
		if ok, err := e.imageExists(ctx, ref); err != nil || ok {
			return err
		}
		return mk(ctx)
	})
}

// pull pulls ref, reading the progress stream to its end, retrying
// transient failures with exponential backoff bound to ctx.
func (e *engine) pull(ctx context.Context, ref, platform string) error {
	backoff := e.o.pullBackoff
	var err error
	for attempt := 1; attempt <= e.o.pullAttempts; attempt++ {
		fmt.Fprintf(e.o.log, "pulling %s (attempt %d)\n", ref, attempt)
		err = e.pullOnce(ctx, ref, platform)
		if err == nil || errors.Is(err, ErrImageNotFound) || ctx.Err() != nil {
			break
		}
		if attempt == e.o.pullAttempts {
			break
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return fmt.Errorf("pulling %q: %w", ref, ctx.Err())
		}
		backoff *= 2
	}
	if err != nil {
		return fmt.Errorf("pulling %q: %w", ref, err)
	}
	return nil
}

func (e *engine) pullOnce(ctx context.Context, ref, platform string) error {
	rc, err := e.c.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("%w: %v", ErrImageNotFound, err)
		}
		return err
	}
	defer rc.Close()
	if err := readStream(rc); err != nil {
		if isNotFoundMessage(err.Error()) {
			return fmt.Errorf("%w: %v", ErrImageNotFound, err)
		}
		return err
	}
	return nil
}

// readStream reads a JSON progress stream to EOF and returns the first
// error message in it.
func readStream(r io.Reader) error {
	return jsonmessage.DisplayJSONMessagesStream(r, io.Discard, 0, false, nil)
}

func isNotFoundMessage(s string) bool {
	s = strings.ToLower(s)
	for _, m := range []string{"not found", "manifest unknown", "pull access denied", "repository does not exist"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// bootstrap makes a base image with debootstrap on the host and imports it.
func (e *engine) bootstrap(ctx context.Context, t matrix.Target, ref string) error {
	d := t.Debootstrap
	start := time.Now()
	dir := filepath.Join(e.o.cacheDir, "rootfs", strings.TrimPrefix(ref, BaseRepo+":"))
	debs := filepath.Join(e.o.cacheDir, "debs", "debootstrap")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return fmt.Errorf("bootstrapping %q: %w", ref, err)
	}
	if err := removeTree(dir); err != nil {
		return fmt.Errorf("bootstrapping %q: %w", ref, err)
	}
	defer removeTree(dir)
	args, err := e.debootstrapArgs(t, debs, dir, debootstrapScripts)
	if err != nil {
		return fmt.Errorf("bootstrapping %q: %w", ref, err)
	}
	fmt.Fprintf(e.o.log, "debootstrap %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	// On cancellation let debootstrap's exit trap unmount what it mounted
	// in the target; kill it only if it does not stop.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bootstrapping %q: debootstrap: %w\n%s", ref, err, tail(out.Bytes(), 20))
	}
	fmt.Fprintf(e.o.log, "debootstrap %s done in %s; importing as %s\n", d.Suite, time.Since(start).Round(time.Second), ref)
	if err := writeSourcesList(dir, d); err != nil {
		return fmt.Errorf("bootstrapping %q: %w", ref, err)
	}

	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", dir, "-cf", "-", ".")
	stdout, err := tarCmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("importing %q: %w", ref, err)
	}
	var tarErr bytes.Buffer
	tarCmd.Stderr = &tarErr
	if err := tarCmd.Start(); err != nil {
		return fmt.Errorf("importing %q: starting tar: %w", ref, err)
	}
	// A suite with pockets is imported under a temporary tag and upgraded
	// from them into ref: a failed upgrade leaves no ref that a later run
	// would take for a finished image.
	imported := ref
	if len(d.Pockets) > 0 {
		imported = ref + "-release"
	}
	rc, err := e.c.ImageImport(ctx, image.ImportSource{Source: stdout, SourceName: "-"}, imported,
		image.ImportOptions{Changes: []string{`CMD ["/bin/sh"]`, "ENV " + imagePath, "LABEL " + LabelFarm + "=1"}})
	if err == nil {
		err = readStream(rc)
		rc.Close()
	}
	// Drain so tar can finish even when the engine stopped reading early.
	_, _ = io.Copy(io.Discard, stdout)
	if werr := tarCmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("tar: %w: %s", werr, tarErr.String())
	}
	if err != nil {
		return fmt.Errorf("importing %q: %w", ref, err)
	}
	if imported != ref {
		err := e.commitImage(ctx, imageJob{from: imported, tag: ref, script: headersDebScript,
			env: []string{"DNSMON_METHOD=none", "DNSMON_UPGRADE=1"}, what: "upgrade of " + d.Suite + " from " + strings.Join(d.Suites()[1:], ", ")})
		// The release image stays only as the upgraded one's parent layer.
		if _, rerr := e.c.ImageRemove(ctx, imported, image.RemoveOptions{}); rerr != nil && err == nil {
			err = fmt.Errorf("removing %s: %w", imported, rerr)
		}
		if err != nil {
			return fmt.Errorf("bootstrapping %q: %w", ref, err)
		}
	}
	fmt.Fprintf(e.o.log, "base image %s ready in %s\n", ref, time.Since(start).Round(time.Second))
	return nil
}

// debootstrapScripts is where debootstrap keeps its per-suite scripts.
const debootstrapScripts = "/usr/share/debootstrap/scripts"

// debootstrapArgs are debootstrap's arguments for t's base image in dir,
// with debootstrap's suite scripts in scripts: the suite alone (the image
// is upgraded from its pockets after the import: debootstrap's
// --extra-suites leaves the gutsy script nothing to install). An Ubuntu
// suite is checked against the Ubuntu archive keys embedded in
// matrix/debian (written once into the cache), and made with the gutsy
// script when the host's debootstrap is older than the suite: that script
// serves every Ubuntu release since 7.10.
func (e *engine) debootstrapArgs(t matrix.Target, debs, dir, scripts string) ([]string, error) {
	d := t.Debootstrap
	args := []string{"--variant=minbase", "--arch=" + imageArch(t), "--cache-dir=" + debs}
	if len(d.Components) > 0 && !slices.Equal(d.Components, []string{"main"}) {
		args = append(args, "--components="+strings.Join(d.Components, ","))
	}
	if len(d.Include) > 0 {
		args = append(args, "--include="+strings.Join(d.Include, ","))
	}
	if d.Archive != debian.ArchiveUbuntu {
		return append(args, d.Suite, dir, d.Mirror), nil
	}
	keyring := filepath.Join(e.o.cacheDir, "keyrings", "ubuntu-archive-keyring.gpg")
	if err := os.MkdirAll(filepath.Dir(keyring), 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(keyring, debian.UbuntuKeyringFile(), 0o644); err != nil {
		return nil, fmt.Errorf("writing the Ubuntu archive keyring: %w", err)
	}
	args = append(args, "--keyring="+keyring, d.Suite, dir, d.Mirror)
	if _, err := os.Stat(filepath.Join(scripts, d.Suite)); err != nil {
		args = append(args, filepath.Join(scripts, "gutsy"))
	}
	return args, nil
}

// writeSourcesList lists every suite and component of d in the image's
// apt sources, so that the image is upgraded from the pockets and a
// kernel's compiler is installed from them. debootstrap lists the suite
// only; an image of one suite and component keeps that list.
func writeSourcesList(dir string, d *matrix.Debootstrap) error {
	if len(d.Pockets) == 0 && slices.Equal(d.Components, []string{"main"}) {
		return nil
	}
	var b strings.Builder
	for _, s := range d.Suites() {
		fmt.Fprintf(&b, "deb %s %s %s\n", d.Mirror, s, strings.Join(d.Components, " "))
	}
	return atomicfile.Write(filepath.Join(dir, "etc", "apt", "sources.list"), []byte(b.String()), 0o644)
}

// lockPath is the lock file that serialises making image ref across
// processes sharing the cache directory.
func (e *engine) lockPath(ref string) string {
	return filepath.Join(e.o.cacheDir, "locks", tagSafe(ref)+".lock")
}

// removeTree removes a debootstrap target after detaching any mounts left
// in it.
func removeTree(dir string) error {
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return nil
	}
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// ensureHeaders makes sure t's headers image exists, making it once.
func (e *engine) ensureHeaders(ctx context.Context, t matrix.Target) (string, error) {
	tag := HeadersImage(t)
	err := e.ensureImage(ctx, tag, func(ctx context.Context) error {
		if err := e.ensureBase(ctx, t); err != nil {
			return err
		}
		return e.makeHeaders(ctx, t, tag)
	})
	return tag, err
}

// makeHeaders runs the headers script in a container of the base image
// that resolveBase checked (by its ID), with host networking, and commits
// the result as tag. t is pinned (engine.pin).
func (e *engine) makeHeaders(ctx context.Context, t matrix.Target, tag string) error {
	base, id, err := e.resolveBase(ctx, t)
	if err != nil {
		return err
	}
	return e.commitImage(ctx, imageJob{from: id, tag: tag, script: headersScript(t),
		env: headersEnv(t), what: "headers " + t.Name(),
		labels: map[string]string{"dev.dnsmon.kernel": t.Kernel, "dev.dnsmon.recipe": imageHash(t), LabelBase: base}})
}

// imageJob is one image the builder makes by running a script in a
// container of another image and committing it.
type imageJob struct {
	from, tag, script string
	env               []string
	what              string            // for messages and the container's label
	labels            map[string]string // added to the committed image's
}

// commitImage runs j.script in a container of j.from, with host networking
// (preparing an image is the one step that reaches package mirrors), and
// commits the result as j.tag.
func (e *engine) commitImage(ctx context.Context, j imageJob) (err error) {
	start := time.Now()
	fmt.Fprintf(e.o.log, "making %s\n", j.tag)
	cfg := &container.Config{
		Image:  j.from,
		Cmd:    []string{"/bin/sh", "-c", j.script},
		Env:    append([]string{imagePath}, j.env...),
		Labels: labels(j.what),
	}
	host := &container.HostConfig{NetworkMode: "host"}
	id, err := createContainer(ctx, e.c, cfg, host)
	if err != nil {
		return fmt.Errorf("making %s: creating container: %w", j.what, err)
	}
	defer func() {
		if rerr := removeContainer(ctx, e.c, id); rerr != nil && err == nil {
			err = rerr
		}
	}()
	status, logs, err := runContainer(ctx, e.c, id)
	if err != nil {
		return fmt.Errorf("making %s: %w", j.what, err)
	}
	if status != 0 {
		return fmt.Errorf("making %s: the script exited with status %d:\n%s", j.what, status, tail(logs, 25))
	}
	imgLabels := map[string]string{LabelFarm: "1"}
	for k, v := range j.labels {
		imgLabels[k] = v
	}
	_, err = e.c.ContainerCommit(ctx, id, container.CommitOptions{
		Reference: j.tag,
		Comment:   "dnsmon " + j.what,
		Config:    &container.Config{Cmd: []string{"/bin/sh"}, Env: []string{imagePath}, Labels: imgLabels},
	})
	if err != nil {
		return fmt.Errorf("making %s: committing: %w", j.what, err)
	}
	fmt.Fprintf(e.o.log, "%s ready in %s\n", j.tag, time.Since(start).Round(100*time.Millisecond))
	return nil
}
