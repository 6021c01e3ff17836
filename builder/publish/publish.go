package publish

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/modinfo"
	"github.com/dnsmon/dnsmon/kmod/signature"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Publisher writes modules as artifacts (see package artifact) to one
// registry repository or OCI image layout, signs each manifest, and keeps
// the per-version index up to date. It is safe for concurrent use; index
// updates from one Publisher are serialised (two publishers writing the same
// version at once may lose each other's index entries: give parallel
// publishers WithoutIndex and run Reindex once they are done).
type Publisher struct {
	target   string
	identity string
	src      store.Source
	sink     sink
	key      *ecdsa.PrivateKey
	log      io.Writer
	noIndex  bool
	// origin names the target in the version index; expires is its
	// expiry (zero: none).
	origin  string
	expires time.Time

	mu sync.Mutex // serialises index read-modify-write
}

var _ builder.Publisher = (*Publisher)(nil)

// Option configures New.
type Option func(*options) error

type options struct {
	key      *ecdsa.PrivateKey
	store    []store.Option // registry access, checked when New opens the target
	identity string
	log      io.Writer
	unsigned bool
	noIndex  bool
	expires  time.Time
}

// WithSigningKey sets the key every manifest is signed with. No default:
// New needs a key unless WithoutSigning is given.
func WithSigningKey(k *ecdsa.PrivateKey) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("WithSigningKey: nil key")
		}
		o.key = k
		return nil
	}
}

// WithoutSigning publishes unsigned manifests (for tests of the fetcher's
// refusal). Default: signing is required.
func WithoutSigning() Option {
	return func(o *options) error {
		o.unsigned = true
		return nil
	}
}

// WithoutIndex publishes module manifests and signatures but leaves the
// per-version index alone, so that publishers running in parallel (CI
// shards) into one repository do not overwrite each other's index
// entries; Has then looks for the module's own tag. Run Reindex when they
// are all done. Default: every Publish updates the index.
func WithoutIndex() Option {
	return func(o *options) error {
		o.noIndex = true
		return nil
	}
}

// WithExpires sets when the version index that the publisher writes stops
// being accepted by hosts (artifact.AnnotationExpires). Every write of the
// index carries it, so a publisher that sets it must publish or reindex
// again before then. Default: the index does not expire.
func WithExpires(t time.Time) Option {
	return func(o *options) error {
		if t.IsZero() {
			return errors.New("WithExpires: zero time")
		}
		o.expires = t.UTC().Truncate(time.Second)
		return nil
	}
}

// WithKeychain sets where registry credentials come from, as
// store.WithKeychain does. Default: authn.DefaultKeychain (the Docker
// config).
func WithKeychain(k authn.Keychain) Option { return withStore(store.WithKeychain(k)) }

// WithTransport sets the HTTP transport, as store.WithTransport does.
// Default: http.DefaultTransport (which honours HTTPS_PROXY).
func WithTransport(rt http.RoundTripper) Option { return withStore(store.WithTransport(rt)) }

// WithRetryBackoff sets the retry schedule of registry requests, as
// store.WithRetryBackoff does. Default: 3 tries, 1 s then 3 s apart.
func WithRetryBackoff(b transport.Backoff) Option { return withStore(store.WithRetryBackoff(b)) }

// withStore keeps a store option for the registry transport and the
// source New opens, which report a bad value.
func withStore(so store.Option) Option {
	return func(o *options) error {
		o.store = append(o.store, so)
		return nil
	}
}

// WithIdentity sets critical.identity.docker-reference of signature
// payloads. Default: the repository name, or "dnsmon" for a layout. cosign
// does not check it; dnsmon-fetch does not either, so bundles can be
// re-hosted.
func WithIdentity(ref string) Option {
	return func(o *options) error {
		if ref == "" {
			return errors.New("WithIdentity: empty reference")
		}
		o.identity = ref
		return nil
	}
}

// WithLogger sets where progress lines go. Default: io.Discard.
func WithLogger(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			w = io.Discard
		}
		o.log = w
		return nil
	}
}

// ErrNoSigningKey means New got neither WithSigningKey nor WithoutSigning:
// modules are not published unsigned by accident.
var ErrNoSigningKey = errors.New("publishing needs a signing key")

// New returns a publisher for target: "oci-layout:DIR" (created when
// missing) or a registry repository "REGISTRY/REPO".
func New(ctx context.Context, target string, opts ...Option) (*Publisher, error) {
	o := &options{log: io.Discard}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	switch {
	case o.key == nil && !o.unsigned:
		return nil, ErrNoSigningKey
	case o.key != nil && o.unsigned:
		return nil, errors.New("WithSigningKey and WithoutSigning exclude each other")
	}
	p := &Publisher{target: target, key: o.key, log: o.log, identity: o.identity, noIndex: o.noIndex, expires: o.expires}
	sopts := o.store
	if dir, ok := strings.CutPrefix(target, store.LayoutPrefix); ok {
		s, err := newLayoutSink(dir)
		if err != nil {
			return nil, err
		}
		p.sink = s
		if p.identity == "" {
			p.identity = "dnsmon"
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("publishing to %q: %w", target, err)
		}
		p.origin = store.LayoutPrefix + abs
	} else {
		repo, err := name.NewRepository(target)
		if err != nil {
			return nil, fmt.Errorf("publishing target %q is neither oci-layout:DIR nor REGISTRY/REPO: %w", target, err)
		}
		tr, err := store.Transport(ctx, repo, []string{repo.Scope(transport.PushScope)}, sopts...)
		if err != nil {
			return nil, err
		}
		pusher, err := remote.NewPusher(remote.WithTransport(tr), remote.WithContext(ctx), remote.WithJobs(2))
		if err != nil {
			return nil, fmt.Errorf("publishing to %s: %w", repo, err)
		}
		p.sink = &registrySink{repo: repo, pusher: pusher}
		if p.identity == "" {
			p.identity = repo.Name()
		}
		p.origin = repo.Name()
	}
	src, err := store.Open(ctx, target, sopts...)
	if err != nil {
		return nil, err
	}
	p.src = src
	return p, nil
}

// Close releases the publisher's connections.
func (p *Publisher) Close() error { return p.src.Close() }

// Meta returns the artifact metadata of a built module, reading vermagic and
// srcversion from its .modinfo. It refuses a module whose vermagic names
// another kernel than its key.
func Meta(m builder.Module) (artifact.Meta, error) {
	info, err := modinfo.Read(bytes.NewReader(m.Data))
	if err != nil {
		return artifact.Meta{}, fmt.Errorf("reading module for %s: %w", m.Key.Kernel, err)
	}
	if err := modinfo.CheckRelease(info.Vermagic, m.Key.Kernel); err != nil {
		return artifact.Meta{}, fmt.Errorf("refusing to publish the module for %s: %w", m.Key.Kernel, err)
	}
	cert, err := signingCert(m)
	if err != nil {
		return artifact.Meta{}, err
	}
	distro := m.Target.Distro
	switch {
	case distro != "" && m.Target.DistroRelease != "":
		distro += "-" + m.Target.DistroRelease
	case distro != "" && strings.HasPrefix(m.Target.Group, distro+"-"):
		distro = m.Target.Group // a DirRecord has the group ("debian-12") but no distribution release
	}
	return artifact.Meta{
		Version: m.Key.ModuleVersion, Release: m.Key.Kernel, Arch: m.Key.Arch, Distro: distro,
		Vermagic: info.Vermagic, Srcversion: info.SrcVersion,
		SourceDigest: m.Key.SourceDigest, BuilderImage: m.BuilderImage, BuilderBase: m.BaseImage, Recipe: m.Key.Recipe,
		SigningCert: cert, Created: m.Created,
	}, nil
}

// Publish writes the module's blobs and manifest, signs the manifest, and
// then adds it to its version's index, so that the index never lists an
// unsigned module.
func (p *Publisher) Publish(ctx context.Context, m builder.Module) error {
	meta, err := Meta(m)
	if err != nil {
		return err
	}
	if m.SigningCert != nil { // before the module, so no index names a module whose certificate is missing
		if _, err := p.PublishCert(ctx, meta.Version, m.SigningCert); err != nil {
			return err
		}
	}
	_, err = p.PublishArtifact(ctx, meta, m.Data)
	return err
}

// PublishArtifact is Publish for a module given as metadata and .ko bytes.
// It returns the manifest's descriptor.
func (p *Publisher) PublishArtifact(ctx context.Context, meta artifact.Meta, ko []byte) (v1.Descriptor, error) {
	a, err := artifact.Build(meta, ko)
	if err != nil {
		return v1.Descriptor{}, err
	}
	tag, err := artifact.ModuleTag(meta.Version, meta.Release, meta.Arch)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := p.putSigned(ctx, tag, artifact.ArtifactType, a.Manifest, a.Digest, a.Config, a.LayerDesc, a.Layer); err != nil {
		return v1.Descriptor{}, err
	}
	if !p.noIndex {
		if err := p.addToIndex(ctx, meta.Version, a.Descriptor()); err != nil {
			return v1.Descriptor{}, err
		}
	}
	fmt.Fprintf(p.log, "published %s:%s (%s)\n", p.target, tag, a.Digest)
	return a.Descriptor(), nil
}

// sign adds a signature by the publisher's key to the digest's signature
// manifest, keeping the signatures already there; it does nothing when one
// by this key is there.
// putSigned writes a one-layer artifact (config, layer, and the manifest
// tagged tag) and, when the publisher has a key, the manifest's signature.
func (p *Publisher) putSigned(ctx context.Context, tag, artifactType string, manifest []byte, digest v1.Hash, config []byte, layerDesc v1.Descriptor, layer []byte) error {
	cd := v1.Descriptor{MediaType: artifact.EmptyMediaType, Size: int64(len(config)), Digest: artifact.Digest(config)}
	for _, b := range []struct {
		d v1.Descriptor
		b []byte
	}{{cd, config}, {layerDesc, layer}} {
		if err := p.sink.putBlob(ctx, b.d, b.b); err != nil {
			return err
		}
	}
	if err := p.sink.putManifest(ctx, tag, manifest, artifact.ManifestMediaType, artifactType); err != nil {
		return err
	}
	if p.key == nil {
		return nil
	}
	return p.sign(ctx, digest)
}

func (p *Publisher) sign(ctx context.Context, digest v1.Hash) error {
	sigTag := artifact.SignatureTag(digest)
	var layers []v1.Descriptor
	raw, err := store.ReadManifest(ctx, p.src, sigTag)
	switch {
	case err == nil:
		if p.signedByUs(ctx, raw, digest) == nil {
			return nil
		}
		var mf v1.Manifest
		if jerr := json.Unmarshal(raw, &mf); jerr == nil {
			layers = mf.Layers
		}
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("reading signatures of %s: %w", digest, err)
	}
	s, err := newSignature(p.key, p.identity, digest, layers)
	if err != nil {
		return err
	}
	if err := p.sink.putBlob(ctx, s.payloadDesc, s.payload); err != nil {
		return err
	}
	if err := p.sink.putBlob(ctx, s.configDesc(), s.config); err != nil {
		return err
	}
	return p.sink.putManifest(ctx, sigTag, s.manifest, types.OCIManifestSchema1, "")
}

// signed is a signature manifest with its blobs, ready to write.
type signed struct {
	manifest, config, payload []byte
	payloadDesc               v1.Descriptor
}

func (s *signed) configDesc() v1.Descriptor {
	return v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(s.config)), Digest: artifact.Digest(s.config)}
}

// newSignature signs digest with key in cosign's format and returns the
// signature manifest holding prev and the new signature.
func newSignature(key *ecdsa.PrivateKey, identity string, digest v1.Hash, prev []v1.Descriptor) (*signed, error) {
	payload, err := signature.NewPayload(identity, digest)
	if err != nil {
		return nil, err
	}
	sig, err := signature.Sign(key, payload)
	if err != nil {
		return nil, err
	}
	ld := signature.Layer{Payload: payload, Signature: sig}.Descriptor()
	mraw, cfg, err := signature.Manifest(append(slices.Clone(prev), ld))
	if err != nil {
		return nil, err
	}
	return &signed{manifest: mraw, config: cfg, payload: payload, payloadDesc: ld}, nil
}

// addToIndex replaces the descriptor of d's kernel in version's index.
func (p *Publisher) addToIndex(ctx context.Context, version string, d v1.Descriptor) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	descs, err := p.indexEntries(ctx, version)
	if err != nil {
		return err
	}
	out := descs[:0]
	for _, e := range descs {
		if e.Annotations[artifact.AnnotationRelease] != d.Annotations[artifact.AnnotationRelease] ||
			e.Annotations[artifact.AnnotationArch] != d.Annotations[artifact.AnnotationArch] {
			out = append(out, e)
		}
	}
	out = append(out, d)
	raw, err := p.writeIndex(ctx, version, out)
	if err != nil {
		return err
	}
	cur, err := p.versionIndex(ctx)
	if err != nil {
		return err
	}
	next := &artifact.VersionIndex{}
	if cur != nil {
		next.Versions = slices.Clone(cur.VersionIndex.Versions)
	}
	next.Set(version, artifact.VersionDescriptor(version, raw))
	_, _, err = p.putVersionIndex(ctx, cur, next)
	return err
}

// writeIndex writes version's index listing descs and returns it.
func (p *Publisher) writeIndex(ctx context.Context, version string, descs []v1.Descriptor) ([]byte, error) {
	raw, err := artifact.NewIndex(version, descs)
	if err != nil {
		return nil, err
	}
	tag, err := artifact.VersionTag(version)
	if err != nil {
		return nil, err
	}
	return raw, p.sink.putManifest(ctx, tag, raw, artifact.IndexMediaType, artifact.IndexArtifactType)
}

// storedIndex is a version index as read, with its bytes.
type storedIndex struct {
	*artifact.VersionIndex
	raw []byte
}

// versionIndex reads the target's version index, nil when there is none.
// One that does not parse is an error, not a fresh start: its serial is
// unknown, and hosts refuse a serial lower than one they have seen.
func (p *Publisher) versionIndex(ctx context.Context) (*storedIndex, error) {
	raw, err := store.ReadManifest(ctx, p.src, artifact.VersionIndexTag)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the version index %s:%s: %w", p.target, artifact.VersionIndexTag, err)
	}
	vi, err := artifact.ParseVersionIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("reading the version index %s:%s: %w (remove the tag only if no host has fetched from here)", p.target, artifact.VersionIndexTag, err)
	}
	return &storedIndex{vi, raw}, nil
}

// putVersionIndex writes next, with the publisher's origin and expiry and
// the serial after cur's (1 when there is no cur), signed. The signature is
// written first, so no host ever reads the new index unsigned. When next
// lists what cur lists, with the same expiry and origin, cur stays and is
// only signed (by a new key after a rotation). It reports whether it wrote
// and returns the index now in place.
func (p *Publisher) putVersionIndex(ctx context.Context, cur *storedIndex, next *artifact.VersionIndex) (bool, *artifact.VersionIndex, error) {
	next.Origin, next.Expires = p.origin, p.expires
	if cur != nil && next.SameContent(cur.VersionIndex) {
		if p.key != nil {
			if err := p.sign(ctx, artifact.Digest(cur.raw)); err != nil {
				return false, nil, err
			}
		}
		return false, cur.VersionIndex, nil
	}
	next.Serial = 1
	if cur != nil {
		next.Serial = cur.Serial + 1
	}
	raw, err := next.Marshal()
	if err != nil {
		return false, nil, err
	}
	if p.key != nil {
		if err := p.sign(ctx, artifact.Digest(raw)); err != nil {
			return false, nil, err
		}
	}
	if err := p.sink.putManifest(ctx, artifact.VersionIndexTag, raw, artifact.IndexMediaType, artifact.VersionIndexArtifactType); err != nil {
		return false, nil, err
	}
	fmt.Fprintf(p.log, "indexed %s:%s (serial %d, %d versions)\n", p.target, artifact.VersionIndexTag, next.Serial, len(next.Versions))
	return true, next, nil
}

// indexEntries returns the module descriptors of version's index, none when
// there is no index yet.
func (p *Publisher) indexEntries(ctx context.Context, version string) ([]v1.Descriptor, error) {
	tag, err := artifact.VersionTag(version)
	if err != nil {
		return nil, err
	}
	raw, err := store.ReadManifest(ctx, p.src, tag)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading index %s:%s: %w", p.target, tag, err)
	}
	_, descs, err := artifact.ParseIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("reading index %s:%s: %w", p.target, tag, err)
	}
	return descs, nil
}

// Has reports whether the version index lists a module for the key's kernel
// and arch whose manifest carries the key's source digest and recipe, and,
// when the publisher signs, that carries a valid signature by the
// publisher's key: after a key rotation every module is signed again. With
// WithoutIndex it looks up the module's tag instead of the index.
func (p *Publisher) Has(ctx context.Context, key builder.Key) (bool, error) {
	if p.noIndex {
		tag, err := artifact.ModuleTag(key.ModuleVersion, key.Kernel, key.Arch)
		if err != nil {
			return false, err
		}
		raw, err := store.ReadManifest(ctx, p.src, tag)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return p.matches(ctx, raw, key)
	}
	descs, err := p.indexEntries(ctx, key.ModuleVersion)
	if err != nil || descs == nil {
		return false, err
	}
	for _, d := range descs {
		if d.Annotations[artifact.AnnotationRelease] != key.Kernel || d.Annotations[artifact.AnnotationArch] != key.Arch {
			continue
		}
		raw, err := store.ReadManifest(ctx, p.src, d.Digest.String())
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return p.matches(ctx, raw, key)
	}
	return false, nil
}

// matches reports whether module manifest raw carries the key's source
// digest, recipe and signing certificate and, when the publisher signs, a
// valid signature by the publisher's key.
func (p *Publisher) matches(ctx context.Context, raw []byte, key builder.Key) (bool, error) {
	_, meta, err := artifact.ParseManifest(raw)
	if err != nil {
		return false, nil // unreadable: rebuild and replace it
	}
	if meta.SourceDigest != key.SourceDigest || meta.Recipe != key.Recipe || meta.SigningCert != key.SigningCert {
		return false, nil
	}
	if p.key == nil {
		return true, nil
	}
	digest := artifact.Digest(raw)
	sraw, err := store.ReadManifest(ctx, p.src, artifact.SignatureTag(digest))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// Signed only by other keys (the key was rotated): publish again,
	// which adds this key's signature beside theirs.
	return p.signedByUs(ctx, sraw, digest) == nil, nil
}

// signedByUs checks that signature manifest raw holds a valid signature of
// digest by the publisher's key.
func (p *Publisher) signedByUs(ctx context.Context, raw []byte, digest v1.Hash) error {
	blob := func(ctx context.Context, d v1.Descriptor) ([]byte, error) {
		return store.ReadBlob(ctx, p.src, d, signature.MaxPayloadSize)
	}
	_, err := signature.VerifyManifest(ctx, raw, blob, signature.Keys{&p.key.PublicKey}, digest)
	return err
}
