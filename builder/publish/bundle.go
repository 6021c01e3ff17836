package publish

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	"github.com/dnsmon/dnsmon/kmod/atomicfile"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// BundleStats says what a bundle holds.
type BundleStats struct {
	Versions []string
	Modules  int
	// Unsigned counts modules copied without a signature manifest.
	Unsigned int
	Blobs    int
	Bytes    int64
}

// BundleOptions select what goes into a bundle.
type BundleOptions struct {
	// Only keeps kernel releases that match it; nil keeps all.
	Only *regexp.Regexp
	// Versions are the module versions to copy; empty means every version
	// tagged in the source.
	Versions []string
	// Arches keeps modules of these architectures (GOARCH spelling, as
	// the artifacts' arch annotation); empty keeps every architecture, so
	// one bundle serves amd64 and arm64 hosts alike.
	Arches []string
}

// keeps says whether a module of the index, by its annotations, belongs in
// the bundle.
func (o BundleOptions) keeps(d v1.Descriptor) bool {
	if o.Only != nil && !o.Only.MatchString(d.Annotations[artifact.AnnotationRelease]) {
		return false
	}
	return len(o.Arches) == 0 || slices.Contains(o.Arches, d.Annotations[artifact.AnnotationArch])
}

// WriteBundleFile writes a bundle of src to file atomically.
func WriteBundleFile(ctx context.Context, src store.Source, file string, opts BundleOptions) (*BundleStats, error) {
	var st *BundleStats
	err := atomicfile.WriteFunc(file, 0o644, func(w io.Writer) error {
		var err error
		st, err = WriteBundle(ctx, src, w, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// bundleWriter streams an OCI image layout into a tar.
type bundleWriter struct {
	tw    *tar.Writer
	seen  map[v1.Hash]bool
	index []v1.Descriptor
	st    *BundleStats
}

func (b *bundleWriter) file(name string, data []byte) error {
	hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

func (b *bundleWriter) blob(h v1.Hash, data []byte) error {
	if b.seen[h] {
		return nil
	}
	b.seen[h] = true
	b.st.Blobs++
	b.st.Bytes += int64(len(data))
	return b.file("blobs/"+h.Algorithm+"/"+h.Hex, data)
}

func (b *bundleWriter) tag(tag string, raw []byte, mt types.MediaType, at string) error {
	d := v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: artifact.Digest(raw), ArtifactType: at,
		Annotations: map[string]string{artifact.AnnotationRefName: tag}}
	b.index = append(b.index, d)
	return b.blob(d.Digest, raw)
}

// WriteBundle writes a bundle of src to w: a zstd-compressed tar of an OCI
// image layout holding, for each selected version, an index of the selected
// kernels, their manifests, blobs and signature manifests, tagged as in a
// registry. Every manifest and blob is verified against its digest while it
// is copied.
func WriteBundle(ctx context.Context, src store.Source, w io.Writer, opts BundleOptions) (*BundleStats, error) {
	versions := opts.Versions
	if len(versions) == 0 {
		tags, err := src.Tags(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", src, err)
		}
		for _, t := range tags {
			if v, err := artifact.ParseVersionTag(t); err == nil {
				versions = append(versions, v)
			}
		}
		sort.Slice(versions, func(i, j int) bool { return artifact.CompareVersions(versions[i], versions[j]) < 0 })
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("writing bundle: %w", err)
	}
	b := &bundleWriter{tw: tar.NewWriter(zw), seen: map[v1.Hash]bool{}, st: &BundleStats{}}
	if err := b.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return nil, fmt.Errorf("writing bundle: %w", err)
	}
	for _, v := range versions {
		n, err := b.version(ctx, src, v, opts)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b.st.Versions = append(b.st.Versions, v)
		}
	}
	if b.st.Modules == 0 {
		only := ""
		if opts.Only != nil {
			only = fmt.Sprintf(", kernels matching %v", opts.Only)
		}
		if len(opts.Arches) > 0 {
			only += fmt.Sprintf(", architectures %v", opts.Arches)
		}
		return nil, fmt.Errorf("bundle of %s would hold no module (versions %v%s)", src, versions, only)
	}
	idx, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: b.index})
	if err != nil {
		return nil, err
	}
	if err := b.file("index.json", idx); err != nil {
		return nil, fmt.Errorf("writing bundle: %w", err)
	}
	if err := b.tw.Close(); err != nil {
		return nil, fmt.Errorf("writing bundle: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("writing bundle: %w", err)
	}
	return b.st, nil
}

func (b *bundleWriter) version(ctx context.Context, src store.Source, version string, opts BundleOptions) (int, error) {
	vtag, err := artifact.VersionTag(version)
	if err != nil {
		return 0, err
	}
	raw, err := store.ReadManifest(ctx, src, vtag)
	if err != nil {
		return 0, fmt.Errorf("reading index %s:%s: %w", src, vtag, err)
	}
	_, descs, err := artifact.ParseIndex(raw)
	if err != nil {
		return 0, fmt.Errorf("reading index %s:%s: %w", src, vtag, err)
	}
	var keep []v1.Descriptor
	for _, d := range descs {
		if !opts.keeps(d) {
			continue
		}
		if err := b.module(ctx, src, version, d); err != nil {
			return 0, err
		}
		keep = append(keep, d)
	}
	if len(keep) == 0 {
		return 0, nil
	}
	if err := b.cert(ctx, src, version); err != nil {
		return 0, err
	}
	iraw, err := artifact.NewIndex(version, keep)
	if err != nil {
		return 0, err
	}
	return len(keep), b.tag(vtag, iraw, artifact.IndexMediaType, artifact.IndexArtifactType)
}

func (b *bundleWriter) module(ctx context.Context, src store.Source, version string, d v1.Descriptor) error {
	raw, err := store.ReadManifest(ctx, src, d.Digest.String())
	if err != nil {
		return err
	}
	mf, meta, err := artifact.ParseManifest(raw)
	if err != nil {
		return fmt.Errorf("%s@%s: %w", src, d.Digest, err)
	}
	if err := b.copyBlobs(ctx, src, append([]v1.Descriptor{mf.Config}, mf.Layers...), artifact.MaxKoSize); err != nil {
		return err
	}
	tag, err := artifact.ModuleTag(version, meta.Release, meta.Arch)
	if err != nil {
		return err
	}
	if err := b.tag(tag, raw, artifact.ManifestMediaType, artifact.ArtifactType); err != nil {
		return err
	}
	b.st.Modules++
	signed, err := b.copySignature(ctx, src, d.Digest)
	if err == nil && !signed {
		b.st.Unsigned++
	}
	return err
}

// copySignature copies the cosign signature of the manifest with digest h,
// if src has one, and says whether it had.
func (b *bundleWriter) copySignature(ctx context.Context, src store.Source, h v1.Hash) (bool, error) {
	stag := artifact.SignatureTag(h)
	sraw, err := store.ReadManifest(ctx, src, stag)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading signature %s: %w", stag, err)
	}
	var smf v1.Manifest
	if err := json.Unmarshal(sraw, &smf); err != nil {
		return false, fmt.Errorf("parsing signature %s: %w", stag, err)
	}
	if err := b.copyBlobs(ctx, src, append([]v1.Descriptor{smf.Config}, smf.Layers...), 1<<20); err != nil {
		return false, err
	}
	return true, b.tag(stag, sraw, types.OCIManifestSchema1, "")
}

func (b *bundleWriter) copyBlobs(ctx context.Context, src store.Source, ds []v1.Descriptor, max int64) error {
	for _, d := range ds {
		if b.seen[d.Digest] {
			continue
		}
		data, err := store.ReadBlob(ctx, src, d, max)
		if err != nil {
			return err
		}
		if err := b.blob(d.Digest, data); err != nil {
			return fmt.Errorf("writing bundle: %w", err)
		}
	}
	return nil
}
