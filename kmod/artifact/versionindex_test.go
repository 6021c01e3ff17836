package artifact

import (
	"strings"
	"testing"
	"time"
)

func TestVersionIndexRoundTrip(t *testing.T) {
	vi := &VersionIndex{Serial: 7, Expires: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), Origin: "ghcr.io/o/m"}
	vi.Set("0.10.0", VersionDescriptor("0.10.0", []byte("ten")))
	vi.Set("0.9.0", VersionDescriptor("0.9.0", []byte("nine")))
	vi.Set("0.10.0", VersionDescriptor("0.10.0", []byte("ten again")))
	raw, err := vi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseVersionIndex(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 7 || !got.Expires.Equal(vi.Expires) || got.Origin != vi.Origin || !got.SameContent(vi) {
		t.Errorf("round trip: %+v, want %+v", got, vi)
	}
	if n := got.Newest(); n != "0.10.0" {
		t.Errorf("Newest = %q", n)
	}
	if d, ok := got.Lookup("0.10.0"); !ok || d.Digest != Digest([]byte("ten again")) {
		t.Errorf("Lookup(0.10.0) = %v, %v: want the replaced index", d.Digest, ok)
	}
	if _, err := ParseVersionTag(VersionIndexTag); err == nil {
		t.Errorf("%q parses as a version tag", VersionIndexTag)
	}
	if !ValidTag(VersionIndexTag) {
		t.Errorf("%q is not a valid OCI tag", VersionIndexTag)
	}
}

func TestParseVersionIndexRefuses(t *testing.T) {
	for name, c := range map[string]struct{ raw, want string }{
		"no serial":  {`{"artifactType":"` + VersionIndexArtifactType + `","manifests":[]}`, "serial"},
		"serial 0":   {`{"artifactType":"` + VersionIndexArtifactType + `","annotations":{"` + AnnotationSerial + `":"0"}}`, "serial"},
		"bad expiry": {`{"artifactType":"` + VersionIndexArtifactType + `","annotations":{"` + AnnotationSerial + `":"1","` + AnnotationExpires + `":"tomorrow"}}`, "RFC 3339"},
		"other type": {`{"artifactType":"` + IndexArtifactType + `","annotations":{"` + AnnotationSerial + `":"1"}}`, "artifactType"},
		"twice":      {`{"artifactType":"` + VersionIndexArtifactType + `","annotations":{"` + AnnotationSerial + `":"1"},"manifests":[` + dup + `,` + dup + `]}`, "twice"},
		"not json":   {`{`, "parsing"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseVersionIndex([]byte(c.raw)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ParseVersionIndex: %v, want an error containing %q", err, c.want)
			}
		})
	}
	if _, err := (&VersionIndex{}).Marshal(); err == nil {
		t.Error("Marshal of serial 0 succeeded")
	}
}

const dup = `{"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"` + IndexArtifactType + `","size":1,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","annotations":{"` + AnnotationVersion + `":"0.1.0"}}`
