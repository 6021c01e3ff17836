package builder

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"

	"github.com/dnsmon/dnsmon/builder/headertree"
	"github.com/dnsmon/dnsmon/matrix"
	"github.com/dnsmon/dnsmon/matrix/debian"
)

// Builder builds the module for one target. The engine implements it;
// Cached and Limit decorate it.
type Builder interface {
	// Key returns the content key of t's module without building it. It
	// may ask a registry which image a base image's tag names.
	Key(ctx context.Context, t matrix.Target) (Key, error)
	// Build builds t's module. A failed build returns a *BuildError.
	Build(ctx context.Context, t matrix.Target) (Module, error)
}

// BuildError is a build whose make (or strip) failed: the target's own
// fault, not the farm's.
type BuildError struct {
	// Target is the target's name.
	Target string
	// Status is the build script's exit status.
	Status int
	// Log is the build's combined output.
	Log []byte
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("building %q: exit status %d:\n%s", e.Target, e.Status, tail(e.Log, 20))
}

// engine builds in containers of a Docker engine.
type engine struct {
	o            *options
	c            Client
	sourceDigest string
	pkgs         *debian.Client    // package indexes and downloads
	trees        *headertree.Store // unpacked header trees

	mu         sync.Mutex
	flights    map[string]*flight
	tagDigests map[string]string // tagDigest's answers
}

var _ Builder = (*engine)(nil)

type flight struct {
	done chan struct{}
	err  error
}

// New returns a Builder that runs builds in containers of a Docker engine.
func New(opts ...Option) (Builder, error) {
	o, sd, err := makeOptionsDigest(opts)
	if err != nil {
		return nil, err
	}
	pkgs := o.packages
	if pkgs == nil {
		if pkgs, err = debian.NewClient(debian.WithCacheDir(o.cacheDir)); err != nil {
			return nil, err
		}
	}
	return &engine{o: o, c: o.client, sourceDigest: sd, pkgs: pkgs, trees: headertree.NewStore(o.cacheDir, pkgs),
		flights: map[string]*flight{}, tagDigests: map[string]string{}}, nil
}

// flight runs fn once per key at a time: concurrent callers wait for the
// running call and share its result; a failed call is forgotten so a later
// caller tries again.
func (e *engine) flight(ctx context.Context, key string, fn func(context.Context) error) error {
	e.mu.Lock()
	if f, ok := e.flights[key]; ok {
		e.mu.Unlock()
		select {
		case <-f.done:
			return f.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	e.flights[key] = f
	e.mu.Unlock()
	f.err = fn(ctx)
	if f.err != nil {
		e.mu.Lock()
		delete(e.flights, key)
		e.mu.Unlock()
	}
	close(f.done)
	return f.err
}

func (e *engine) Key(ctx context.Context, t matrix.Target) (Key, error) {
	pt, err := e.pin(ctx, t) // digest.go
	if err != nil {
		return Key{}, err
	}
	return e.keyOf(pt), nil
}

// keyOf is the key of a pinned target's module.
func (e *engine) keyOf(t matrix.Target) Key {
	return Key{Module: e.o.module, ModuleVersion: e.o.moduleVersion, SourceDigest: e.sourceDigest,
		Kernel: t.Kernel, Arch: t.Arch, Recipe: RecipeHash(t), SigningCert: e.o.signingCert()}
}

func (e *engine) Build(ctx context.Context, t matrix.Target) (Module, error) {
	if UsesTree(t) {
		return e.buildFromTree(ctx, t)
	}
	pt, err := e.pin(ctx, t)
	if err != nil {
		return Module{}, err
	}
	tag, err := e.ensureHeaders(ctx, pt)
	if err != nil {
		return Module{}, err
	}
	base, err := e.headersBase(ctx, tag)
	if err != nil {
		return Module{}, targetError(t, "building", err)
	}
	m, err := e.run(ctx, pt, tag, base, nil, nil)
	m.Target = t
	return m, err
}

// run builds t's module in a container of image, with mounts, and signs it
// when the builder has a module signer. t is pinned (engine.pin). base is
// the registry or debootstrap image image was made from, for the module's
// annotations. env is added to the build script's environment.
func (e *engine) run(ctx context.Context, t matrix.Target, image, base string, mounts []mount.Mount, env []string) (m Module, err error) {
	key := e.keyOf(t)
	src, err := sourceTar(e.o.src, "src")
	if err != nil {
		return Module{}, err
	}
	cfg := &container.Config{
		Image: image,
		Cmd:   []string{"/bin/sh", "-c", buildScript},
		Env: append([]string{imagePath, "DNSMON_KDIR=" + t.KernelDir, "DNSMON_MODULE=" + e.o.module,
			// A target alone has the machine to itself; targets side by
			// side share it, and make's jobs only add a little switching.
			"DNSMON_MAKE_JOBS=" + strconv.Itoa(runtime.NumCPU())},
			env...),
		WorkingDir:      "/",
		NetworkDisabled: true,
		Labels:          labels(t.Name()),
	}
	host := &container.HostConfig{NetworkMode: network.NetworkNone, Mounts: mounts}
	id, err := createContainer(ctx, e.c, cfg, host)
	if err != nil {
		return Module{}, targetError(t, "building", fmt.Errorf("creating container: %w", err))
	}
	defer func() {
		if rerr := removeContainer(ctx, e.c, id); rerr != nil && err == nil {
			err = targetError(t, "building", rerr)
		}
	}()
	if err := e.c.CopyToContainer(ctx, id, "/", src, container.CopyToContainerOptions{}); err != nil {
		return Module{}, targetError(t, "building", fmt.Errorf("copying source in: %w", err))
	}
	status, logs, err := runContainer(ctx, e.c, id)
	if err != nil {
		return Module{Log: logs}, targetError(t, "building", err)
	}
	if status != 0 {
		return Module{Log: logs}, &BuildError{Target: t.Name(), Status: status, Log: logs}
	}
	data, err := copyFileOut(ctx, e.c, id, "/src/"+e.o.module+".ko")
	if err != nil {
		return Module{Log: logs}, targetError(t, "building", err)
	}
	var cert []byte
	if e.o.signer != nil { // after strip, outside the container
		if data, err = SignModule(data, t.Kernel, e.o.signer); err != nil {
			return Module{Log: logs}, targetError(t, "signing", err)
		}
		cert = e.o.signer.Cert.Raw
	}
	return Module{Key: key, Target: t, Data: data, SigningCert: cert, BuilderImage: image, BaseImage: base, Created: time.Now().UTC(), Log: logs}, nil
}
