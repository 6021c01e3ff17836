package fetcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/fetcher/hoststate"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	"github.com/dnsmon/dnsmon/kmod/boundedio"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// ErrNoVersionIndex means a source holds no version index
// (artifact.VersionIndexTag): it was published by a release older than
// the version index, or by hand.
var ErrNoVersionIndex = errors.New("no version index")

// ErrIndexUnsigned means the version index has no signature at all.
var ErrIndexUnsigned = errors.New("version index is not signed")

// RollbackError means the version index's serial is lower than one this
// host has seen from the same source: a rollback to an older publish (or
// a mirror that is behind).
type RollbackError struct {
	// Source is what the serial is remembered for (see stateKey).
	Source string
	// Serial is the index's; Highest the one seen before.
	Serial, Highest uint64
	// State is the file the highest serial is kept in.
	State string
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("refusing the version index of %s: its serial %d is lower than serial %d seen before (kept in %s): a rollback to an older publish, or a mirror that is behind",
		e.Source, e.Serial, e.Highest, e.State)
}

// ExpiredError means the version index is past the expiry its publisher
// set: the publisher has not re-signed it since, or the source serves a
// frozen copy.
type ExpiredError struct {
	Source  string
	Serial  uint64
	Expires time.Time
	Now     time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("refusing the version index of %s: serial %d expired at %s (now %s): the publisher has not re-signed it since, or the source serves a stale copy",
		e.Source, e.Serial, e.Expires.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// WithAllowRollback accepts a version index whose serial is lower than the
// highest seen from the source (after a publisher restarted its
// repository, or to go back knowingly); the highest serial stays
// remembered. Default: refused with a *RollbackError.
func WithAllowRollback() Option {
	return func(o *options) error {
		o.allowRollback = true
		return nil
	}
}

// WithAllowExpired accepts a version index past its expiry (an old bundle
// on an air-gapped host). Default: refused with an *ExpiredError.
func WithAllowExpired() Option {
	return func(o *options) error {
		o.allowExpired = true
		return nil
	}
}

// SerialsFile is the name of the file the highest serial seen per source
// is kept in, in the state directory: /var/lib/dnsmon under WithRoot, or
// the directory of WithOutput's file, as for the module signing
// certificate.
const SerialsFile = "index-serials.json"

// maxSerialsFile caps the serials file: one short line per source.
const maxSerialsFile = 1 << 20

func (o *options) serialsPath() string {
	if o.output != "" {
		return filepath.Join(filepath.Dir(o.output), SerialsFile)
	}
	return filepath.Join(o.root, hoststate.SerialsPath)
}

// serials is the file's content.
type serials struct {
	// Sources maps a source (see stateKey) to the highest serial seen.
	Sources map[string]uint64 `json:"sources"`
}

func readSerials(path string) (serials, error) {
	s := serials{Sources: map[string]uint64{}}
	err := boundedio.DecodeJSONFile(path, maxSerialsFile, &s)
	if errors.As(err, new(*boundedio.DecodeError)) {
		return s, fmt.Errorf("reading the serials seen, %s: %w (remove it to start again: older serials are accepted once)", path, err)
	}
	if err != nil {
		return s, fmt.Errorf("reading the serials seen: %w", err)
	}
	if s.Sources == nil {
		s.Sources = map[string]uint64{}
	}
	return s, nil
}

// stateKey names the source a serial is remembered for. A registry is its
// repository (as go-containerregistry names it: ghcr.io/o/r); an OCI layout
// its absolute directory. A bundle is a file whose name and place change
// with each copy, so it is known by the origin its signed version index
// names, the repository it was made from: a bundle and a fetch from that
// repository share one serial, and an older bundle after a newer fetch is
// a rollback too.
func stateKey(src store.Source, vi *artifact.VersionIndex) string {
	name := src.String()
	if dir, ok := strings.CutPrefix(name, store.LayoutPrefix); ok {
		if abs, err := filepath.Abs(dir); err == nil {
			return store.LayoutPrefix + abs
		}
		return name
	}
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() && vi.Origin != "" {
		return vi.Origin
	}
	return name
}

// checkFresh refuses vi when it is older than what this host has seen
// from the source, or expired, unless allowed. It returns the function
// that remembers vi's serial, for the caller to run once everything else
// checked out too (nothing is written for a refused fetch). vi must be
// verified: an unverified serial proves nothing and is neither checked
// nor remembered.
func (o *options) checkFresh(src store.Source, vi *artifact.VersionIndex) (remember func() error, err error) {
	key := stateKey(src, vi)
	now := o.now()
	if !vi.Expires.IsZero() && now.After(vi.Expires) {
		if !o.allowExpired {
			return nil, &ExpiredError{Source: key, Serial: vi.Serial, Expires: vi.Expires, Now: now}
		}
		fmt.Fprintf(o.Log, "accepting the version index of %s although it expired at %s (allowed)\n", key, vi.Expires.UTC().Format(time.RFC3339))
	}
	path := o.serialsPath()
	s, err := readSerials(path)
	if err != nil {
		return nil, err
	}
	seen := s.Sources[key]
	switch {
	case vi.Serial < seen && !o.allowRollback:
		return nil, &RollbackError{Source: key, Serial: vi.Serial, Highest: seen, State: path}
	case vi.Serial < seen:
		fmt.Fprintf(o.Log, "accepting serial %d of the version index of %s although serial %d was seen (allowed); %d stays the highest\n", vi.Serial, key, seen, seen)
		return func() error { return nil }, nil
	case vi.Serial == seen:
		return func() error { return nil }, nil
	}
	return func() error { return rememberSerial(path, key, vi.Serial) }, nil
}

// rememberSerial raises the serial kept for key in the file at path to
// serial, reading the file again: another fetch may have raised it since.
func rememberSerial(path, key string, serial uint64) error {
	s, err := readSerials(path)
	if err != nil {
		return err
	}
	if s.Sources[key] >= serial {
		return nil
	}
	s.Sources[key] = serial
	b, _ := json.MarshalIndent(s, "", "  ") // a map of numbers always marshals
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("keeping the serial seen: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("keeping the serial seen: %w", err)
	}
	return nil
}

// ReadVersionIndex reads src's version index and, when keys are given,
// verifies its signature like a module's: a missing signature is
// ErrIndexUnsigned, one by no key of keys an error wrapping
// signature.ErrNoSignature. Freshness (serial, expiry) is the caller's:
// Fetch checks it against what the host has seen.
func ReadVersionIndex(ctx context.Context, src store.Source, keys signature.Keys) (*artifact.VersionIndex, error) {
	raw, err := store.ReadManifest(ctx, src, artifact.VersionIndexTag)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w in %s (tag %s): it was published before version indexes, or its publish did not finish",
			ErrNoVersionIndex, src, artifact.VersionIndexTag)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the version index of %s: %w", src, err)
	}
	if len(keys) > 0 {
		digest := artifact.Digest(raw)
		if _, err := verifySignature(ctx, src, digest, keys); err != nil {
			if errors.Is(err, ErrUnsigned) {
				return nil, fmt.Errorf("%w: %s:%s (%s) has no signature tag %s", ErrIndexUnsigned, src, artifact.VersionIndexTag, digest, artifact.SignatureTag(digest))
			}
			return nil, fmt.Errorf("refusing the version index %s:%s: %w", src, artifact.VersionIndexTag, err)
		}
	}
	vi, err := artifact.ParseVersionIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", src, artifact.VersionIndexTag, err)
	}
	return vi, nil
}
