package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/fetcher/atomicfile"
)

// DefaultPath is where the configuration lives.
const DefaultPath = "/etc/dnsmon/config.json"

// maxSize caps the file: it holds a few short strings.
const maxSize = 64 << 10

// Config is the file's content. Every field is optional; a flag given on
// the command line wins over the file.
type Config struct {
	// Source is where modules come from: REGISTRY/REPO, oci-layout:DIR or
	// a bundle FILE.tar.zst (the --from flag).
	Source string `json:"source,omitempty"`
	// Key is the path of the publisher's public key, PEM (the --key flag).
	Key string `json:"key,omitempty"`
	// InsecureRegistry allows plain HTTP to the registry.
	InsecureRegistry bool `json:"insecure_registry,omitempty"`
}

// Load reads the configuration at path. A missing file is an empty
// Config and no error; unknown keys are an error (a typo must not be
// ignored silently).
func Load(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading configuration: %w", err)
	}
	if len(b) > maxSize {
		return c, fmt.Errorf("configuration %s is %d bytes, more than %d", path, len(b), maxSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("reading configuration %s: %w (fields: source, key, insecure_registry)", path, err)
	}
	return c, nil
}

// Save writes c to path atomically, creating its directory. A relative
// key path is made absolute first, since the hook runs from another
// directory.
func Save(path string, c Config) error {
	if c.Key != "" {
		abs, err := filepath.Abs(c.Key)
		if err != nil {
			return fmt.Errorf("saving configuration: %w", err)
		}
		c.Key = abs
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving configuration: %w", err)
	}
	b, _ := json.MarshalIndent(c, "", "  ") // strings and a bool always marshal
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving configuration: %w", err)
	}
	return nil
}
