package fetcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/kmod"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
	"github.com/dnsmon/dnsmon/kmod/signature"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// ErrNoKey means neither a public key nor WithInsecureSkipVerify was given.
var ErrNoKey = errors.New("no public key to verify signatures with")

// ErrKeyAndSkipVerify means public keys and WithInsecureSkipVerify were
// both given: one asks for signatures to be checked, the other not.
var ErrKeyAndSkipVerify = errors.New("public keys given with WithInsecureSkipVerify")

// ErrUnsigned means the manifest has no signature at all.
var ErrUnsigned = errors.New("module is not signed")

// VermagicError means the .ko was built for another kernel.
type VermagicError struct {
	// Release is the target kernel release; Vermagic the module's.
	Release, Vermagic string
}

func (e *VermagicError) Error() string {
	v, _ := modinfo.ParseVermagic(e.Vermagic)
	return fmt.Sprintf("module vermagic %q is for kernel %q, not %q: the kernel would refuse it (\"Invalid module format\")", strings.TrimSpace(e.Vermagic), v.Release, e.Release)
}

// Fetch picks the module for the target kernel from the source, verifies
// it (digests, signature, vermagic) and writes it atomically with its
// record beside it. Nothing is written unless every check passes.
func Fetch(ctx context.Context, opts ...Option) (*Record, error) {
	return withSource(ctx, opts, func(o *options, keys signature.Keys, host Host, src store.Source) (*Record, error) {
		out := o.output
		if out == "" {
			out = filepath.Join(o.root, kmod.DefaultPath(host.Release))
		}
		return o.fetchFrom(ctx, src, keys, host, out)
	})
}

// fetchFrom resolves and verifies the module for host in src and writes it
// to out with its record.
func (o *options) fetchFrom(ctx context.Context, src store.Source, keys signature.Keys, host Host, out string) (*Record, error) {
	vi, err := ReadVersionIndex(ctx, src, keys)
	if err != nil {
		return nil, err
	}
	remember := func() error { return nil }
	if len(keys) > 0 {
		if remember, err = o.checkFresh(src, vi); err != nil { // freshness.go
			return nil, err
		}
	}
	m, err := resolveIn(ctx, src, vi, host, o.version, keys)
	if err != nil {
		return nil, err
	}
	rec := &Record{
		Path: out, Source: src.String(), Manifest: m.Digest.String(), Layer: m.LayerDigest.String(),
		KoDigest: m.Meta.KoDigest.String(), Signer: m.Signer, Verified: m.Signer != "",
		Kernel: m.Meta.Release, Arch: m.Meta.Arch, Version: m.Meta.Version,
		Vermagic: m.Meta.Vermagic, Srcversion: m.Meta.Srcversion, SourceDigest: m.Meta.SourceDigest,
		Created: m.Meta.Created, FetchedAt: o.now().UTC().Truncate(time.Second),
	}
	if err := o.checkModuleCert(ctx, src, keys, m, rec); err != nil { // modcert.go
		return nil, err
	}
	if err := writeModule(out, m.Ko, rec); err != nil {
		return nil, err
	}
	if err := remember(); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "wrote %s (dnsmon %s for %s, %s)\n", out, rec.Version, rec.Kernel, rec.Manifest)
	return rec, nil
}

// withSource makes the options and what every fetch of one kernel starts
// from: the verification keys (none when told to skip signatures), the
// target host and the opened source. It runs f with them and closes the
// source.
func withSource[T any](ctx context.Context, opts []Option, f func(o *options, keys signature.Keys, host Host, src store.Source) (T, error)) (T, error) {
	var none T
	o, err := makeOptions(opts...)
	if err != nil {
		return none, err
	}
	keys, err := o.publicKeys()
	if err != nil {
		return none, err
	}
	host, err := o.target()
	if err != nil {
		return none, err
	}
	src, err := store.Open(ctx, o.source, o.store...)
	if err != nil {
		return none, err
	}
	defer src.Close()
	return f(o, keys, host, src)
}

// publicKeys returns every key a signature may verify with: those given and
// those read from the key files.  None only when told to skip signatures.
func (o *options) publicKeys() (signature.Keys, error) {
	given := len(o.keys) > 0 || len(o.keyFiles) > 0
	switch {
	case o.insecure && given:
		return nil, ErrKeyAndSkipVerify
	case o.insecure:
		return nil, nil
	case !given:
		return nil, ErrNoKey
	}
	keys := append(signature.Keys(nil), o.keys...)
	for _, f := range o.keyFiles {
		k, err := signature.LoadPublicKey(f)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (o *options) target() (Host, error) {
	var h Host
	if o.release == "" || o.arch == "" {
		var err error
		if h, err = o.host(); err != nil {
			return Host{}, err
		}
	} else if hh, err := o.host(); err == nil {
		h.Distro, h.DistroVersion = hh.Distro, hh.DistroVersion
	}
	if o.release != "" {
		h.Release = o.release
	}
	if o.arch != "" {
		h.Arch = o.arch
	}
	return h, nil
}

// Module is a verified module build.
type Module struct {
	Meta        artifact.Meta
	Digest      v1.Hash // the manifest's
	LayerDigest v1.Hash
	// Signer is the fingerprint of the key that verified the signature,
	// "" when verification was skipped.
	Signer string
	// Ko is the decompressed, verified .ko.
	Ko []byte
}

// Resolve selects the module for host.Release and host.Arch from version
// (the newest when "") in src and verifies it: the version index's
// signature, the version's index against it, manifest digest, signature
// with keys (each skipped when keys is nil), layer digest, .ko digest and
// vermagic. The version index's serial and expiry are Fetch's to check.
func Resolve(ctx context.Context, src store.Source, host Host, version string, keys signature.Keys) (*Module, error) {
	vi, err := ReadVersionIndex(ctx, src, keys)
	if err != nil {
		return nil, err
	}
	return resolveIn(ctx, src, vi, host, version, keys)
}

// versionIndexOf returns the module descriptors of version's index (the
// newest version when ""), read by the digest vi lists for it.
func versionIndexOf(ctx context.Context, src store.Source, vi *artifact.VersionIndex, version string) (string, []v1.Descriptor, error) {
	if version == "" {
		if version = vi.Newest(); version == "" {
			return "", nil, fmt.Errorf("%w in %s (its version index lists none like 0.1.0)", ErrNoVersion, src)
		}
	}
	d, ok := vi.Lookup(version)
	if !ok {
		return "", nil, fmt.Errorf("dnsmon module version %s is not in %s: %w", version, src, store.ErrNotFound)
	}
	raw, err := store.ReadManifest(ctx, src, d.Digest.String())
	if err != nil {
		return "", nil, fmt.Errorf("reading the index of dnsmon %s in %s: %w", version, src, err)
	}
	iv, descs, err := artifact.ParseIndex(raw)
	if err != nil {
		return "", nil, fmt.Errorf("%s@%s: %w", src, d.Digest, err)
	}
	if iv != version {
		return "", nil, fmt.Errorf("%s@%s is the index of version %q, not %q", src, d.Digest, iv, version)
	}
	return version, descs, nil
}

func resolveIn(ctx context.Context, src store.Source, vi *artifact.VersionIndex, host Host, version string, keys signature.Keys) (*Module, error) {
	version, descs, err := versionIndexOf(ctx, src, vi, version)
	if err != nil {
		return nil, err
	}
	d, ok := pick(descs, host.Release, host.Arch)
	if !ok {
		return nil, &NoModuleError{Source: src.String(), Version: version, Release: host.Release, Arch: host.Arch,
			Distro: host.DistroName(), Nearest: nearest(descs, host.Release, host.Arch, host.DistroName(), 5), ESM: host.ESM()}
	}
	if d.Size > artifact.MaxManifestSize {
		return nil, fmt.Errorf("manifest %s is %d bytes, more than %d", d.Digest, d.Size, artifact.MaxManifestSize)
	}
	mraw, err := store.ReadManifest(ctx, src, d.Digest.String())
	if err != nil {
		return nil, err
	}
	mf, meta, err := artifact.ParseManifest(mraw)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", src, d.Digest, err)
	}
	if meta.Release != host.Release || meta.Arch != host.Arch || meta.Version != version {
		return nil, fmt.Errorf("%s@%s is dnsmon %s for %s/%s, but the index lists it for %s %s/%s: refusing a mislabelled module",
			src, d.Digest, meta.Version, meta.Release, meta.Arch, version, host.Release, host.Arch)
	}
	m := &Module{Meta: meta, Digest: d.Digest, LayerDigest: mf.Layers[0].Digest}
	if len(keys) > 0 {
		if m.Signer, err = verifySignature(ctx, src, d.Digest, keys); err != nil {
			return nil, err
		}
	}
	layer, err := store.ReadBlob(ctx, src, mf.Layers[0], artifact.MaxKoSize)
	if err != nil {
		return nil, err
	}
	if m.Ko, err = decompress(layer, meta, src.String()); err != nil {
		return nil, err
	}
	if err := checkModinfo(m.Ko, meta, host.Release); err != nil {
		return nil, err
	}
	return m, nil
}

func verifySignature(ctx context.Context, src store.Source, digest v1.Hash, keys signature.Keys) (string, error) {
	sraw, err := store.ReadManifest(ctx, src, artifact.SignatureTag(digest))
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: %s has no signature tag %s",
			ErrUnsigned, digest, artifact.SignatureTag(digest))
	}
	if err != nil {
		return "", fmt.Errorf("reading signature of %s: %w", digest, err)
	}
	blob := func(ctx context.Context, d v1.Descriptor) ([]byte, error) {
		return store.ReadBlob(ctx, src, d, signature.MaxPayloadSize)
	}
	fp, err := signature.VerifyManifest(ctx, sraw, blob, keys, digest)
	if err != nil {
		return "", fmt.Errorf("verifying signature of %s in %s: %w", digest, src, err)
	}
	return fp, nil
}

func decompress(layer []byte, meta artifact.Meta, source string) ([]byte, error) {
	zr, err := zstd.NewReader(bytes.NewReader(layer), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(artifact.MaxKoSize*2))
	if err != nil {
		return nil, fmt.Errorf("decompressing module: %w", err)
	}
	defer zr.Close()
	ko, err := io.ReadAll(store.NewVerifyingReader(zr, meta.KoDigest, meta.KoSize, source))
	if err != nil {
		var de *store.DigestError
		if errors.As(err, &de) {
			de.Object = "decompressed module"
			return nil, de
		}
		return nil, fmt.Errorf("decompressing module from %s: %w", source, err)
	}
	return ko, nil
}

func checkModinfo(ko []byte, meta artifact.Meta, release string) error {
	info, err := modinfo.Read(bytes.NewReader(ko))
	if err != nil {
		return fmt.Errorf("checking the module file: %w", err)
	}
	v, err := modinfo.ParseVermagic(info.Vermagic)
	if err != nil {
		return fmt.Errorf("checking the module file: %w", err)
	}
	if v.Release != release {
		return &VermagicError{Release: release, Vermagic: info.Vermagic}
	}
	if info.Vermagic != meta.Vermagic {
		return fmt.Errorf("module vermagic %q differs from the manifest's %q: refusing a mislabelled module", info.Vermagic, meta.Vermagic)
	}
	if info.Name != "" && info.Name != kmod.Name {
		return fmt.Errorf("module is %q, not %q", info.Name, kmod.Name)
	}
	return nil
}
