package artifact

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func meta(release string) Meta {
	return Meta{Version: "0.1.0", Release: release, Arch: "amd64", Distro: "debian-12", Vermagic: release + " SMP",
		BuilderBase: "docker.io/library/debian@sha256:" + strings.Repeat("5", 64), Created: time.Unix(1700000000, 0)}
}

func TestBuildParse(t *testing.T) {
	a, err := Build(meta("6.1.0-56-amd64"), []byte("not really an ELF"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(meta("6.1.0-56-amd64"), []byte("not really an ELF"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest {
		t.Errorf("Build is not deterministic: %s vs %s", a.Digest, b.Digest)
	}
	mf, m, err := ParseManifest(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.Release != "6.1.0-56-amd64" || m.BuilderBase != meta("").BuilderBase || m.KoSize != 17 || m.KoDigest != Digest([]byte("not really an ELF")) || !m.Created.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("parsed meta %+v", m)
	}
	if mf.Config.Digest.String() != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" || mf.Config.MediaType != EmptyMediaType {
		t.Errorf("config %+v is not the OCI empty descriptor", mf.Config)
	}
}

func TestParseManifestRejects(t *testing.T) {
	good, err := Build(meta("6.1.0-56-amd64"), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*v1.Manifest)) []byte {
		var mf v1.Manifest
		json.Unmarshal(good.Manifest, &mf)
		f(&mf)
		b, _ := json.Marshal(mf)
		return b
	}
	for name, c := range map[string]struct {
		raw  []byte
		want string
	}{
		"not json":       {[]byte("{"), "parsing module manifest"},
		"other artifact": {edit(func(m *v1.Manifest) { m.ArtifactType = "application/x" }), "not a dnsmon module"},
		"two layers":     {edit(func(m *v1.Manifest) { m.Layers = append(m.Layers, m.Layers[0]) }), "exactly one"},
		"no release":     {edit(func(m *v1.Manifest) { delete(m.Annotations, AnnotationRelease) }), "missing kernel release"},
		"huge ko":        {edit(func(m *v1.Manifest) { m.Annotations[AnnotationKoSize] = "999999999999" }), "want a size"},
		"bad ko digest":  {edit(func(m *v1.Manifest) { m.Annotations[AnnotationKoDigest] = "md5:x" }), AnnotationKoDigest},
		"docker media type": {edit(func(m *v1.Manifest) { m.MediaType = "application/vnd.docker.distribution.manifest.v2+json" }),
			"has mediaType"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := ParseManifest(c.raw)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ParseManifest: %v, want %q", err, c.want)
			}
		})
	}
}

func TestIndex(t *testing.T) {
	var ds []v1.Descriptor
	for _, r := range []string{"6.12.117+deb12-amd64", "5.10.0-32-amd64", "6.1.0-56-amd64"} {
		a, err := Build(meta(r), []byte(r))
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, a.Descriptor())
	}
	raw, err := NewIndex("0.1.0", ds)
	if err != nil {
		t.Fatal(err)
	}
	v, got, err := ParseIndex(raw)
	if err != nil || v != "0.1.0" || len(got) != 3 || got[0].Annotations[AnnotationRelease] != "5.10.0-32-amd64" {
		t.Errorf("ParseIndex = %q %v %v", v, got, err)
	}
	if _, err := NewIndex("0.1.0", append(ds, ds[0])); err == nil {
		t.Error("NewIndex accepted a kernel twice")
	}
	// Another artifact's index (a version index, say) is not a version's.
	other := strings.Replace(string(raw), IndexArtifactType, VersionIndexArtifactType, 1)
	if _, _, err := ParseIndex([]byte(other)); err == nil || !strings.Contains(err.Error(), "not a dnsmon module index") {
		t.Errorf("ParseIndex of an index of artifactType %s: %v, want a refusal", VersionIndexArtifactType, err)
	}
}
