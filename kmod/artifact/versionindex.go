package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The version index.
//
// One OCI image index per source, tagged VersionIndexTag, lists every module
// version's index by digest and carries a serial, an optional expiry and the
// source it was published to:
//
//	_index → image index (artifactType VersionIndexArtifactType)
//	         ├─ annotations: serial "7", expires "2027-01-01T00:00:00Z", origin "ghcr.io/o/dnsmon-modules"
//	         ├─ 0.1.0's index (descriptor by digest, with its version)
//	         └─ 0.2.0's index
//
// It is signed like module manifests (SignatureTag of its digest), so one
// signature covers which versions exist, what each version's index holds
// (its digest) and how fresh the whole is. Hosts read the newest version
// from it instead of from the tag listing, which nobody signs.
//
// From TUF (The Update Framework) this takes two ideas and leaves the rest:
//
//   - the snapshot role's: one signed document names the exact version of
//     every other index, so a mirror cannot mix an old version's index with
//     a new one, nor hide a version, without breaking the signature;
//   - the timestamp role's: a version number (here the serial) that every
//     publish increases and that clients remember, refusing a lower one
//     (rollback), and an expiry after which clients refuse the document
//     (freeze: a mirror serving a stale but validly signed state forever).
//
// Unlike TUF, the snapshot and timestamp are one document signed with the
// one artifact key (no separate online timestamp key, no root role: key
// rotation is the hosts' --key list), and the expiry is optional and off by
// default, because air-gapped bundles and the kernel post-install hook
// must keep working long after a publish. With no expiry the serial still
// stops rollbacks to an older publish, but not a freeze.
const (
	// VersionIndexTag tags the version index. A leading '_' followed by
	// 'i' is no canonical tag encoding (see encodePart), so it can never
	// be a version, module or certificate tag.
	VersionIndexTag = "_index"
	// VersionIndexArtifactType is the artifactType of the version index.
	VersionIndexArtifactType = "application/vnd.dnsmon.versions.v1"
	// AnnotationSerial is the version index's serial, a decimal >= 1.
	AnnotationSerial = "io.github.dnsmon.index.serial"
	// AnnotationExpires is when hosts stop accepting the version index
	// (RFC 3339); absent when it does not expire.
	AnnotationExpires = "io.github.dnsmon.index.expires"
	// AnnotationOrigin names the repository (or oci-layout:DIR) the version
	// index was published to; a bundle keeps its source's.
	AnnotationOrigin = "io.github.dnsmon.index.origin"
)

// VersionIndex is the parsed version index.
type VersionIndex struct {
	// Serial grows by one with every publish that changes the index.
	Serial uint64
	// Expires is when the index stops being accepted; zero for never.
	Expires time.Time
	// Origin is the repository the publisher wrote to.
	Origin string
	// Versions are the descriptors of each version's index, sorted by
	// version, each with AnnotationVersion.
	Versions []v1.Descriptor
}

// VersionDescriptor returns the descriptor the version index lists for the
// index raw of version.
func VersionDescriptor(version string, raw []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: IndexMediaType, Size: int64(len(raw)), Digest: Digest(raw),
		ArtifactType: IndexArtifactType, Annotations: map[string]string{AnnotationVersion: version}}
}

// Lookup returns the descriptor of version's index.
func (vi *VersionIndex) Lookup(version string) (v1.Descriptor, bool) {
	for _, d := range vi.Versions {
		if d.Annotations[AnnotationVersion] == version {
			return d, true
		}
	}
	return v1.Descriptor{}, false
}

// Newest returns the newest version listed whose name starts with a digit
// (as "0.1.0" does), "" when there is none.
func (vi *VersionIndex) Newest() string {
	best := ""
	for _, d := range vi.Versions {
		v := d.Annotations[AnnotationVersion]
		if v == "" || v[0] < '0' || v[0] > '9' {
			continue
		}
		if best == "" || CompareVersions(v, best) > 0 {
			best = v
		}
	}
	return best
}

// Set lists d as the index of version, replacing what was listed for it.
func (vi *VersionIndex) Set(version string, d v1.Descriptor) {
	vi.Versions = slices.DeleteFunc(vi.Versions, func(e v1.Descriptor) bool { return e.Annotations[AnnotationVersion] == version })
	vi.Versions = append(vi.Versions, d)
	vi.sort()
}

func (vi *VersionIndex) sort() {
	slices.SortFunc(vi.Versions, func(a, b v1.Descriptor) int {
		return CompareVersions(a.Annotations[AnnotationVersion], b.Annotations[AnnotationVersion])
	})
}

// SameContent reports whether vi and o list the same version indexes with
// the same expiry and origin: whether writing vi over o changes anything
// but the serial.
func (vi *VersionIndex) SameContent(o *VersionIndex) bool {
	if vi.Origin != o.Origin || !vi.Expires.Equal(o.Expires) || len(vi.Versions) != len(o.Versions) {
		return false
	}
	for i, d := range vi.Versions {
		e := o.Versions[i]
		if d.Digest != e.Digest || d.Size != e.Size || d.Annotations[AnnotationVersion] != e.Annotations[AnnotationVersion] {
			return false
		}
	}
	return true
}

// Marshal returns the raw version index. The same content gives the same
// bytes.
func (vi *VersionIndex) Marshal() ([]byte, error) {
	if vi.Serial == 0 {
		return nil, errors.New("encoding the version index: serial 0 (serials start at 1)")
	}
	v := *vi
	v.Versions = slices.Clone(vi.Versions)
	v.sort()
	for i := 1; i < len(v.Versions); i++ {
		if v.Versions[i-1].Annotations[AnnotationVersion] == v.Versions[i].Annotations[AnnotationVersion] {
			return nil, fmt.Errorf("encoding the version index: version %q listed twice", v.Versions[i].Annotations[AnnotationVersion])
		}
	}
	a := map[string]string{AnnotationSerial: strconv.FormatUint(v.Serial, 10)}
	if !v.Expires.IsZero() {
		a[AnnotationExpires] = v.Expires.UTC().Format(time.RFC3339)
	}
	if v.Origin != "" {
		a[AnnotationOrigin] = v.Origin
	}
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: IndexMediaType, ArtifactType: VersionIndexArtifactType,
		Manifests: v.Versions, Annotations: a}
	if im.Manifests == nil {
		im.Manifests = []v1.Descriptor{}
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return nil, fmt.Errorf("encoding the version index: %w", err)
	}
	return raw, nil
}

// ParseVersionIndex parses and checks a version index: its artifactType, a
// serial of at least 1, an RFC 3339 expiry when there is one, and version
// index descriptors that each name one version once.
func ParseVersionIndex(raw []byte) (*VersionIndex, error) {
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		return nil, fmt.Errorf("parsing the version index: %w", err)
	}
	if im.ArtifactType != VersionIndexArtifactType {
		return nil, fmt.Errorf("the version index has artifactType %q, want %q", im.ArtifactType, VersionIndexArtifactType)
	}
	a := im.Annotations
	vi := &VersionIndex{Origin: a[AnnotationOrigin]}
	n, err := strconv.ParseUint(a[AnnotationSerial], 10, 64)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("the version index has serial %q: want a number of at least 1", a[AnnotationSerial])
	}
	vi.Serial = n
	if s, ok := a[AnnotationExpires]; ok {
		if vi.Expires, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, fmt.Errorf("the version index expires %q: want RFC 3339: %w", s, err)
		}
	}
	seen := map[string]bool{}
	for _, d := range im.Manifests {
		v := d.Annotations[AnnotationVersion]
		if d.ArtifactType != IndexArtifactType || v == "" {
			continue
		}
		if seen[v] {
			return nil, fmt.Errorf("the version index lists version %q twice", v)
		}
		seen[v] = true
		vi.Versions = append(vi.Versions, d)
	}
	vi.sort()
	return vi, nil
}
