package install

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dnsmon/dnsmon/fetcher/internal/hostopt"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Option configures ModuleAndBoot, Module and Uninstall.
type Option func(*options) error

type options struct {
	root      string
	fsys      FS
	cmds      Commands
	loaderBin string
	fetchBin  string
	release   string

	hostopt.SizeCap // WithMaxSize; 0 is modinfo.DefaultMaxModuleSize
	hostopt.Logger
}

func makeOptions(opts []Option) (*options, error) {
	return hostopt.Apply(&options{root: "/", fsys: osFS{}, cmds: execCommands{},
		Logger: hostopt.Logger{Log: io.Discard}}, opts)
}

// WithRoot installs into the tree under dir instead of "/" (an image being
// prepared, a mounted disk, a test directory). Default: "/".
func WithRoot(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("WithRoot: empty directory")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("WithRoot %q: %w", dir, err)
		}
		o.root = abs
		return nil
	}
}

// WithFS makes every change through fsys. Default: the real filesystem.
func WithFS(fsys FS) Option {
	return func(o *options) error {
		if fsys == nil {
			return errors.New("WithFS: nil FS")
		}
		o.fsys = fsys
		return nil
	}
}

// WithCommands finds and runs depmod through c. Default: exec.LookPath
// (plus /usr/sbin and /sbin) and os/exec.
func WithCommands(c Commands) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithCommands: nil Commands")
		}
		o.cmds = c
		return nil
	}
}

// WithLoaderBinary copies the dnsmon-load binary at path to
// /usr/local/sbin/dnsmon-load for the systemd unit, unless it is that file
// already. Default: none; ModuleAndBoot then fails, since the unit needs it.
func WithLoaderBinary(path string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.loaderBin, path, "WithLoaderBinary", "path") }
}

// WithFetchBinary copies the dnsmon-fetch binary at path to
// /usr/local/sbin/dnsmon-fetch for the kernel post-install hook, unless it
// is that file already. Default: none; the hook then runs dnsmon-fetch
// from $PATH.
func WithFetchBinary(path string) Option {
	return func(o *options) error { return hostopt.NonEmpty(&o.fetchBin, path, "WithFetchBinary", "path") }
}

// WithRelease requires the module to be built for release. Default: any
// release whose /lib/modules directory exists under the root.
func WithRelease(release string) Option {
	return func(o *options) error {
		return hostopt.SetChecked(&o.release, release, "WithRelease", modinfo.ValidateRelease)
	}
}

// WithMaxSize caps a decompressed module at n bytes. Default:
// modinfo.DefaultMaxModuleSize.
func WithMaxSize(n int64) Option {
	return func(o *options) error { return o.SetMaxSize(n) }
}

// WithLogger receives one line per change. Default: io.Discard.
func WithLogger(w io.Writer) Option {
	return func(o *options) error { return o.SetLogger(w) }
}

// path joins the root and an absolute in-root path.
func (o *options) path(p string) string { return filepath.Join(o.root, p) }
