package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
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
	// Keys are the paths of the publisher's public keys, PEM (the --key
	// flag, repeated): a signature by any of them verifies, so a host
	// trusts the old and the new key while the publisher rotates.
	Keys []string `json:"keys,omitempty"`
	// Key is the one key of files written before Keys; Load moves it to
	// the front of Keys, and Save never writes it.
	Key string `json:"key,omitempty"`
	// InsecureRegistry allows plain HTTP to the registry.
	InsecureRegistry bool `json:"insecure_registry,omitempty"`
}

// Load reads the configuration at path. A missing file is an empty
// Config and no error; unknown keys are an error (a typo must not be
// ignored silently).
func Load(path string) (Config, error) {
	var c Config
	err := boundedio.DecodeJSONFile(path, maxSize, &c)
	if errors.As(err, new(*boundedio.DecodeError)) {
		return c, fmt.Errorf("reading configuration %s: %w (fields: source, keys, insecure_registry)", path, err)
	}
	if err != nil {
		return c, fmt.Errorf("reading configuration: %w", err)
	}
	if c.Key != "" {
		c.Keys = append([]string{c.Key}, c.Keys...)
		c.Key = ""
	}
	return c, nil
}

// Save writes c to path atomically, creating its directory. Relative key
// paths are made absolute first, since the hook runs from another
// directory.
func Save(path string, c Config) error {
	keys := c.Keys
	if c.Key != "" {
		keys = append([]string{c.Key}, keys...)
	}
	c.Key, c.Keys = "", nil
	for _, k := range keys {
		abs, err := filepath.Abs(k)
		if err != nil {
			return fmt.Errorf("saving configuration: %w", err)
		}
		c.Keys = append(c.Keys, abs)
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
