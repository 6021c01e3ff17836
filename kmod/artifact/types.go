package artifact

import (
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dnsmon/dnsmon/kmod/modinfo"
)

// Media and artifact types.
const (
	// ArtifactType is the artifactType of a module manifest.
	ArtifactType = "application/vnd.dnsmon.module.v1"
	// IndexArtifactType is the artifactType of a per-version image index.
	IndexArtifactType = "application/vnd.dnsmon.module.index.v1"
	// LayerMediaType is the media type of the one layer of a module
	// manifest: the .ko file compressed with zstd.
	LayerMediaType types.MediaType = "application/vnd.dnsmon.module.ko.v1+zstd"
	// ManifestMediaType is the media type of a module manifest.
	ManifestMediaType = types.OCIManifestSchema1
	// IndexMediaType is the media type of a per-version index.
	IndexMediaType = types.OCIImageIndex
	// EmptyMediaType is the config media type of a module manifest, whose
	// config blob is EmptyJSON.
	EmptyMediaType = types.OCIEmptyJSON
	// LayerTitle is the file name `oras pull` gives the layer.
	LayerTitle = "dnsmon.ko.zst"
)

// EmptyJSON is the config blob of a module manifest (the OCI empty descriptor).
var emptyJSON = []byte("{}")

// EmptyJSON returns the bytes of the empty config blob, "{}".
func EmptyJSON() []byte { return append([]byte(nil), emptyJSON...) }

// Annotation keys. Keys under io.github.dnsmon. are ours; the others are the
// OCI pre-defined ones.
const (
	AnnotationRelease      = "io.github.dnsmon.kernel.release"
	AnnotationArch         = "io.github.dnsmon.kernel.arch"
	AnnotationDistro       = "io.github.dnsmon.kernel.distro"
	AnnotationVermagic     = "io.github.dnsmon.module.vermagic"
	AnnotationSrcversion   = "io.github.dnsmon.module.srcversion"
	AnnotationVersion      = "io.github.dnsmon.module.version"
	AnnotationKoDigest     = "io.github.dnsmon.module.ko.digest"
	AnnotationKoSize       = "io.github.dnsmon.module.ko.size"
	AnnotationSourceDigest = "io.github.dnsmon.source.digest"
	AnnotationBuilderImage = "io.github.dnsmon.builder.image"
	AnnotationBuilderBase  = "io.github.dnsmon.builder.base"
	AnnotationRecipe       = "io.github.dnsmon.builder.recipe"
	AnnotationSigningCert  = "io.github.dnsmon.module.signing-cert"
	AnnotationCreated      = "org.opencontainers.image.created"
	AnnotationTitle        = "org.opencontainers.image.title"
	AnnotationRefName      = "org.opencontainers.image.ref.name"
)

// Size caps applied when reading.
const (
	// MaxManifestSize caps manifests and indexes (the distribution spec
	// lets registries refuse manifests above 4 MiB).
	MaxManifestSize = 4 << 20
	// MaxKoSize caps a decompressed .ko, and so its layer: the module
	// format's own cap, modinfo.DefaultMaxModuleSize. dnsmon.ko is well
	// under 1 MiB.
	MaxKoSize = modinfo.DefaultMaxModuleSize
)
