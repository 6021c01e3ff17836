package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dnsmon/dnsmon/kmod/artifact"
	"github.com/dnsmon/dnsmon/kmod/artifact/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ReindexOptions select what Reindex rebuilds.
type ReindexOptions struct {
	// Versions are the module versions whose index is rebuilt; empty means
	// every version that has a module tag.
	Versions []string
	// IncludeUnsigned lists modules that have no signature tag; by default
	// they are left out, so the index never names an unsigned module.
	IncludeUnsigned bool
}

// ReindexStats says what Reindex did.
type ReindexStats struct {
	// Versions are the versions whose index was rebuilt or found right.
	Versions []string
	// Written counts indexes that changed; Unchanged those already right.
	Written, Unchanged int
	// Modules counts the modules the indexes list.
	Modules int
	// Skipped lists module tags left out, each with the reason.
	Skipped []string
	// Serial is the version index's serial after the run; SerialWritten
	// says whether the run wrote a new version index.
	Serial        uint64
	SerialWritten bool
}

// Reindex rebuilds the per-version indexes of the publisher's target from
// the module tags it holds: it lists the tags, decodes module tags
// (artifact.ParseModuleTag), reads each manifest's annotations and writes,
// per version, an index of the modules found. An index that already lists
// exactly those modules is not rewritten, so Reindex is idempotent. Run it
// once after publishers made WithoutIndex (parallel CI shards) are done.
//
// Then it rebuilds the version index from every version index tag the
// target holds and writes it with the next serial, signed, unless it lists
// exactly that already with the publisher's expiry (see WithExpires): a
// reindex with an expiry always writes, which is how a publisher keeps an
// expiring index fresh.
func (p *Publisher) Reindex(ctx context.Context, o ReindexOptions) (*ReindexStats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tags, err := p.src.Tags(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", p.target, err)
	}
	sort.Strings(tags)
	tagSet := make(map[string]bool, len(tags))
	for _, t := range tags {
		tagSet[t] = true
	}
	want := func(v string) bool { return len(o.Versions) == 0 || slices.Contains(o.Versions, v) }
	st := &ReindexStats{}
	byVersion := map[string][]v1.Descriptor{}
	for _, tag := range tags {
		version, release, arch, err := artifact.ParseModuleTag(tag)
		hashed := errors.Is(err, artifact.ErrHashedTag)
		switch {
		case hashed:
			// The version is still the tag's first part.
			vt, _, _ := strings.Cut(tag, "__")
			if version, err = artifact.ParseVersionTag(vt); err != nil {
				st.Skipped = append(st.Skipped, tag+": "+err.Error())
				continue
			}
		case err != nil:
			continue // version, signature and foreign tags
		}
		if !want(version) {
			continue
		}
		raw, err := store.ReadManifest(ctx, p.src, tag)
		if err != nil {
			return nil, fmt.Errorf("reading %s:%s: %w", p.target, tag, err)
		}
		_, meta, err := artifact.ParseManifest(raw)
		if err != nil {
			st.Skipped = append(st.Skipped, tag+": "+err.Error())
			continue
		}
		if meta.Version != version || (!hashed && (meta.Release != release || meta.Arch != arch)) {
			st.Skipped = append(st.Skipped, fmt.Sprintf("%s: annotations name %s/%s/%s", tag, meta.Version, meta.Release, meta.Arch))
			continue
		}
		digest := artifact.Digest(raw)
		if !o.IncludeUnsigned && !tagSet[artifact.SignatureTag(digest)] {
			st.Skipped = append(st.Skipped, tag+": unsigned")
			continue
		}
		byVersion[version] = append(byVersion[version], v1.Descriptor{
			MediaType: artifact.ManifestMediaType, Size: int64(len(raw)), Digest: digest,
			ArtifactType: artifact.ArtifactType, Annotations: artifact.IndexAnnotations(meta),
		})
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	for _, v := range o.Versions {
		if _, ok := byVersion[v]; !ok {
			return nil, fmt.Errorf("reindexing %s: no module tag of version %q", p.target, v)
		}
	}
	sort.Slice(versions, func(i, j int) bool { return artifact.CompareVersions(versions[i], versions[j]) < 0 })
	indexes := map[string][]byte{} // version → its index as now in place
	for _, v := range versions {
		descs := byVersion[v]
		raw, err := artifact.NewIndex(v, descs)
		if err != nil {
			return nil, err
		}
		vtag, err := artifact.VersionTag(v)
		if err != nil {
			return nil, err
		}
		old, err := store.ReadManifest(ctx, p.src, vtag)
		switch {
		case err == nil && bytes.Equal(old, raw):
			st.Unchanged++
		case err == nil || errors.Is(err, store.ErrNotFound):
			if _, err := p.writeIndex(ctx, v, descs); err != nil {
				return nil, err
			}
			st.Written++
			fmt.Fprintf(p.log, "indexed %s:%s (%d modules)\n", p.target, vtag, len(descs))
		default:
			return nil, fmt.Errorf("reading index %s:%s: %w", p.target, vtag, err)
		}
		indexes[v] = raw
		st.Versions = append(st.Versions, v)
		st.Modules += len(descs)
	}
	if err := p.reindexVersions(ctx, tags, indexes, st); err != nil {
		return nil, err
	}
	return st, nil
}

// reindexVersions rebuilds the version index from indexes and the other
// version tags of tags.
func (p *Publisher) reindexVersions(ctx context.Context, tags []string, indexes map[string][]byte, st *ReindexStats) error {
	next := &artifact.VersionIndex{}
	for _, tag := range tags {
		v, err := artifact.ParseVersionTag(tag)
		if err != nil {
			continue
		}
		if _, ok := indexes[v]; ok {
			continue
		}
		raw, err := store.ReadManifest(ctx, p.src, tag)
		if err != nil {
			return fmt.Errorf("reading index %s:%s: %w", p.target, tag, err)
		}
		if _, _, err := artifact.ParseIndex(raw); err != nil {
			st.Skipped = append(st.Skipped, tag+": "+err.Error())
			continue
		}
		indexes[v] = raw
	}
	for v, raw := range indexes {
		next.Set(v, artifact.VersionDescriptor(v, raw))
	}
	cur, err := p.versionIndex(ctx)
	if err != nil {
		return err
	}
	written, now, err := p.putVersionIndex(ctx, cur, next)
	if err != nil {
		return err
	}
	st.Serial, st.SerialWritten = now.Serial, written
	return nil
}
