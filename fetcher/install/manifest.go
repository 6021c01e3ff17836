package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Manifest records what ModuleAndBoot and Module created, so that Uninstall removes exactly
// that. It is written as JSON to ManifestPath.
type Manifest struct {
	// Files are the files and symlinks written, in the order written.
	Files []Entry `json:"files"`
	// Dirs are the directories created (they did not exist before), parents
	// first.
	Dirs []string `json:"dirs,omitempty"`
	// Params are the module parameters of the last ModuleAndBoot.
	Params []string `json:"params,omitempty"`
}

// Entry is one file ModuleAndBoot or Module wrote.
type Entry struct {
	// Path inside the root.
	Path string `json:"path"`
	// Kind: "module", "config", "unit", "link", "hook" or "binary".
	Kind string `json:"kind"`
	// Kernel is the release a module is for.
	Kernel string `json:"kernel,omitempty"`
	// Target is a symlink's target.
	Target string `json:"target,omitempty"`
}

func (m *Manifest) has(path string) bool {
	return slices.ContainsFunc(m.Files, func(e Entry) bool { return e.Path == path })
}

func (m *Manifest) add(e Entry) {
	for i := range m.Files {
		if m.Files[i].Path == e.Path {
			m.Files[i] = e
			return
		}
	}
	m.Files = append(m.Files, e)
}

func (m *Manifest) addDir(d string) {
	if !slices.Contains(m.Dirs, d) {
		m.Dirs = append(m.Dirs, d)
	}
}

// ErrNotInstalled means there is no manifest: nothing to uninstall.
var ErrNotInstalled = errors.New("dnsmon is not installed")

// ReadManifest reads the manifest under the root (WithRoot).
func ReadManifest(opts ...Option) (*Manifest, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return o.readManifest()
}

func (o *options) readManifest() (*Manifest, error) {
	p := o.path(ManifestPath)
	b, err := o.fsys.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (no %s)", ErrNotInstalled, p)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the install manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("reading the install manifest %s: %w", p, err)
	}
	for _, e := range m.Files {
		if err := checkPath(e.Path); err != nil {
			return nil, fmt.Errorf("install manifest %s: %w", p, err)
		}
	}
	for _, d := range m.Dirs {
		if err := checkPath(d); err != nil {
			return nil, fmt.Errorf("install manifest %s: %w", p, err)
		}
	}
	return &m, nil
}

// checkPath refuses manifest paths that could reach outside the root or
// name the root itself: a damaged manifest must not make Uninstall remove
// something else.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") || p == "/" || slices.Contains(strings.Split(p, "/"), "..") {
		return fmt.Errorf("bad path %q", p)
	}
	return nil
}

func (m *Manifest) encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ") // strings and slices always marshal
	return append(b, '\n')
}
