package builder

import (
	"github.com/dnsmon/dnsmon/builder/headertree"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/dnsmon/dnsmon/matrix"
)

// Key identifies a module build by content: the same key means the same
// module source built for the same kernel with the same builder recipe.
type Key struct {
	// Module is the module name, e.g. "dnsmon".
	Module string `json:"module"`
	// ModuleVersion is the module's version (kmod.Version()).
	ModuleVersion string `json:"module_version"`
	// SourceDigest is SourceDigest of the module source, "sha256:HEX".
	SourceDigest string `json:"source_digest"`
	// Kernel is the kernel release.
	Kernel string `json:"kernel"`
	// Arch is the Go/OCI architecture.
	Arch string `json:"arch"`
	// Recipe is RecipeHash of the target: base image (a registry image by
	// digest, even when kernels.yaml names a tag), headers and build steps.
	Recipe string `json:"recipe"`
	// SigningCert is the fingerprint (modsign.Fingerprint) of the
	// certificate whose key signed the module, "" for an unsigned module.
	SigningCert string `json:"signing_cert,omitempty"`
}

// Digest is the key's own content hash, "sha256:HEX".
func (k Key) Digest() string {
	b, _ := json.Marshal(k) // a struct of strings always marshals
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Module is one built module, handed to a Publisher.
type Module struct {
	// Key is what the module was built from.
	Key Key
	// Target is the build target.
	Target matrix.Target
	// Data is the stripped .ko file, signed when the key has a SigningCert.
	Data []byte
	// BuilderImage is the image the module was built in: the headers
	// image ("dnsmon-headers:TAG"), or for a header tree the suite's
	// image ("dnsmon-base:TAG", "dnsmon-toolchain:TAG").
	BuilderImage string
	// HeaderBinds are the read-only bind mounts of the header tree the
	// module was built against (none for a headers image): with
	// BuilderImage, what it takes to run the same make again.
	HeaderBinds []headertree.Bind
	// BaseImage is what that image was made from, by content: the
	// registry image as "NAME@sha256:HEX", or the farm's own
	// "dnsmon-base:TAG" of a debootstrap recipe.
	BaseImage string
	// Created is when the build finished.
	Created time.Time
	// Log is the build's combined output.
	Log []byte
	// SigningCert is the DER certificate of the key that signed Data, nil
	// when the module is unsigned; publishers publish it with the module.
	SigningCert []byte
	// Cached is set when the build was skipped because the Publisher
	// already had the key; Data is then empty.
	Cached bool
}

// Publisher stores modules by key. The farm asks Has before building and
// calls Publish after; implementations: DirPublisher here, OCI registries and
// layouts in builder/publish.
type Publisher interface {
	// Has reports whether a module with this key is already published.
	Has(ctx context.Context, key Key) (bool, error)
	// Publish stores the module under its key.
	Publish(ctx context.Context, m Module) error
}

// SourceDigest hashes a module source tree: every regular file's path and
// content, in path order. Returns "sha256:HEX".
func SourceDigest(src fs.FS) (string, error) {
	type entry struct {
		path string
		sum  [32]byte
	}
	var entries []entry
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		entries = append(entries, entry{p, sha256.Sum256(b)})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing module source: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%x\n", e.path, e.sum)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
