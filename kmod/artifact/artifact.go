package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/zstd"
)

// Meta describes one module build; every field becomes a manifest
// annotation.
type Meta struct {
	// Version is the module version (MODULE_VERSION), e.g. "0.1.0".
	Version string
	// Release is the kernel release the module was built for, as `uname -r`
	// prints it, e.g. "6.12.117+deb12-amd64".
	Release string
	// Arch is the kernel architecture in GOARCH spelling, e.g. "amd64".
	Arch string
	// Distro names the distribution the kernel comes from, e.g.
	// "debian-12"; free-form, used to suggest near releases.
	Distro string
	// Vermagic is the module's vermagic string from .modinfo.
	Vermagic string
	// Srcversion is the module's srcversion from .modinfo.
	Srcversion string
	// SourceDigest identifies the module source, e.g. "sha256:…".
	SourceDigest string
	// BuilderImage is the image the module was built in.
	BuilderImage string
	// BuilderBase is what BuilderImage was made from, by content: a
	// registry image as "NAME@sha256:HEX", or the builder's own
	// "dnsmon-base:TAG" of a debootstrap recipe.
	BuilderBase string
	// Recipe identifies the build recipe (builder image, flags); together
	// with SourceDigest it is the cache key of a build.
	Recipe string
	// Created is when the module was built.
	Created time.Time
	// SigningCert is the fingerprint ("sha256:HEX" of the DER) of the
	// certificate whose key signed the .ko (its appended module signature);
	// "" for an unsigned module.
	SigningCert string
	// KoDigest and KoSize describe the uncompressed .ko; set by Build.
	KoDigest v1.Hash
	KoSize   int64
}

// Artifact is a module manifest with its blobs, ready to write.
type Artifact struct {
	Meta      Meta
	Manifest  []byte  // raw manifest JSON
	Digest    v1.Hash // digest of Manifest
	Layer     []byte  // zstd-compressed .ko
	LayerDesc v1.Descriptor
	Config    []byte // "{}"
}

// Descriptor returns the manifest's descriptor as the version index lists it.
func (a *Artifact) Descriptor() v1.Descriptor {
	return v1.Descriptor{
		MediaType:    ManifestMediaType,
		Size:         int64(len(a.Manifest)),
		Digest:       a.Digest,
		ArtifactType: ArtifactType,
		Annotations:  IndexAnnotations(a.Meta),
	}
}

// IndexAnnotations are the annotations a version index puts on a module's
// descriptor.
func IndexAnnotations(m Meta) map[string]string {
	a := map[string]string{
		AnnotationRelease: m.Release,
		AnnotationArch:    m.Arch,
		AnnotationVersion: m.Version,
	}
	if m.Distro != "" {
		a[AnnotationDistro] = m.Distro
	}
	return a
}

func (m Meta) check() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"module version", m.Version}, {"kernel release", m.Release}, {"arch", m.Arch}, {"vermagic", m.Vermagic},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("missing %s", f.name))
		}
	}
	return errors.Join(errs...)
}

func (m Meta) annotations() map[string]string {
	a := map[string]string{
		AnnotationRelease:  m.Release,
		AnnotationArch:     m.Arch,
		AnnotationVersion:  m.Version,
		AnnotationVermagic: m.Vermagic,
		AnnotationKoDigest: m.KoDigest.String(),
		AnnotationKoSize:   strconv.FormatInt(m.KoSize, 10),
		AnnotationCreated:  m.Created.UTC().Format(time.RFC3339),
	}
	for k, v := range map[string]string{
		AnnotationDistro:       m.Distro,
		AnnotationSrcversion:   m.Srcversion,
		AnnotationSourceDigest: m.SourceDigest,
		AnnotationBuilderImage: m.BuilderImage,
		AnnotationBuilderBase:  m.BuilderBase,
		AnnotationRecipe:       m.Recipe,
		AnnotationSigningCert:  m.SigningCert,
	} {
		if v != "" {
			a[k] = v
		}
	}
	return a
}

// Digest returns the sha256 digest of b.
func Digest(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// Compress returns ko compressed with zstd. The output is deterministic.
func Compress(ko []byte) ([]byte, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return nil, fmt.Errorf("creating zstd encoder: %w", err)
	}
	defer enc.Close()
	return enc.EncodeAll(ko, nil), nil
}

// Build makes the manifest of one module build. Created defaults to now.
// KoDigest and KoSize are computed from ko.
func Build(m Meta, ko []byte) (*Artifact, error) {
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	m.KoDigest = Digest(ko)
	m.KoSize = int64(len(ko))
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("building artifact for %q: %w", m.Release, err)
	}
	layer, err := Compress(ko)
	if err != nil {
		return nil, fmt.Errorf("building artifact for %q: %w", m.Release, err)
	}
	ld := v1.Descriptor{
		MediaType:   LayerMediaType,
		Size:        int64(len(layer)),
		Digest:      Digest(layer),
		Annotations: map[string]string{AnnotationTitle: LayerTitle},
	}
	mf := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     ManifestMediaType,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Size: int64(len(emptyJSON)), Digest: Digest(emptyJSON)},
		Layers:        []v1.Descriptor{ld},
		Annotations:   m.annotations(),
	}
	raw, err := json.Marshal(mf)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest for %q: %w", m.Release, err)
	}
	return &Artifact{Meta: m, Manifest: raw, Digest: Digest(raw), Layer: layer, LayerDesc: ld, Config: EmptyJSON()}, nil
}

// ParseManifest parses and checks a module manifest: artifactType, the
// empty config, one zstd layer and the required annotations.
func ParseManifest(raw []byte) (*v1.Manifest, Meta, error) {
	var mf v1.Manifest
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, Meta{}, fmt.Errorf("parsing module manifest: %w", err)
	}
	if mf.ArtifactType != ArtifactType {
		return nil, Meta{}, fmt.Errorf("manifest has artifactType %q, want %q: not a dnsmon module", mf.ArtifactType, ArtifactType)
	}
	if mf.MediaType != "" && mf.MediaType != ManifestMediaType {
		return nil, Meta{}, fmt.Errorf("manifest has mediaType %q, want %q", mf.MediaType, ManifestMediaType)
	}
	if len(mf.Layers) != 1 || mf.Layers[0].MediaType != LayerMediaType {
		return nil, Meta{}, fmt.Errorf("module manifest must have exactly one %s layer", LayerMediaType)
	}
	a := mf.Annotations
	m := Meta{
		Version:      a[AnnotationVersion],
		Release:      a[AnnotationRelease],
		Arch:         a[AnnotationArch],
		Distro:       a[AnnotationDistro],
		Vermagic:     a[AnnotationVermagic],
		Srcversion:   a[AnnotationSrcversion],
		SourceDigest: a[AnnotationSourceDigest],
		BuilderImage: a[AnnotationBuilderImage],
		BuilderBase:  a[AnnotationBuilderBase],
		Recipe:       a[AnnotationRecipe],
		SigningCert:  a[AnnotationSigningCert],
	}
	var errs []error
	if err := m.check(); err != nil {
		errs = append(errs, err)
	}
	if t, err := time.Parse(time.RFC3339, a[AnnotationCreated]); err == nil {
		m.Created = t
	}
	if h, err := v1.NewHash(a[AnnotationKoDigest]); err != nil {
		errs = append(errs, fmt.Errorf("annotation %s: %w", AnnotationKoDigest, err))
	} else {
		m.KoDigest = h
	}
	if n, err := strconv.ParseInt(a[AnnotationKoSize], 10, 64); err != nil || n <= 0 || n > MaxKoSize {
		errs = append(errs, fmt.Errorf("annotation %s is %q: want a size in 1..%d", AnnotationKoSize, a[AnnotationKoSize], MaxKoSize))
	} else {
		m.KoSize = n
	}
	if err := errors.Join(errs...); err != nil {
		return nil, Meta{}, fmt.Errorf("module manifest: %w", err)
	}
	return &mf, m, nil
}

// NewIndex returns the raw per-version index listing descs, which must all
// be module descriptors of version (see Artifact.Descriptor). Descriptors
// are sorted by release and arch so the same set gives the same digest.
func NewIndex(version string, descs []v1.Descriptor) ([]byte, error) {
	ds := append([]v1.Descriptor(nil), descs...)
	slices.SortFunc(ds, func(a, b v1.Descriptor) int { return strings.Compare(key(a), key(b)) })
	for i := 1; i < len(ds); i++ {
		if key(ds[i-1]) == key(ds[i]) {
			return nil, fmt.Errorf("index %q lists %s/%s twice", version, ds[i].Annotations[AnnotationRelease], ds[i].Annotations[AnnotationArch])
		}
	}
	im := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     IndexMediaType,
		ArtifactType:  IndexArtifactType,
		Manifests:     ds,
		Annotations:   map[string]string{AnnotationVersion: version},
	}
	if im.Manifests == nil {
		im.Manifests = []v1.Descriptor{}
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return nil, fmt.Errorf("encoding index %q: %w", version, err)
	}
	return raw, nil
}

// ParseIndex parses a per-version index and returns its version and the
// module descriptors it lists; descriptors of other artifact types are
// dropped.
func ParseIndex(raw []byte) (string, []v1.Descriptor, error) {
	var im v1.IndexManifest
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&im); err != nil {
		return "", nil, fmt.Errorf("parsing module index: %w", err)
	}
	if im.ArtifactType != IndexArtifactType {
		return "", nil, fmt.Errorf("index has artifactType %q, want %q: not a dnsmon module index", im.ArtifactType, IndexArtifactType)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if d.ArtifactType == ArtifactType && d.Annotations[AnnotationRelease] != "" && d.Annotations[AnnotationArch] != "" {
			out = append(out, d)
		}
	}
	return im.Annotations[AnnotationVersion], out, nil
}

func key(d v1.Descriptor) string {
	return d.Annotations[AnnotationRelease] + "\x00" + d.Annotations[AnnotationArch]
}
