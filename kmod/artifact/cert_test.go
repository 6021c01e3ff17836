package artifact

import (
	"bytes"
	"strings"
	"testing"
)

func TestCertArtifact(t *testing.T) {
	der := bytes.Repeat([]byte{0x30}, 700)
	a, err := BuildCert("0.1.0", der)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BuildCert("0.1.0", der)
	if a.Digest != b.Digest {
		t.Error("the same certificate gave two manifest digests")
	}
	layer, v, fp, err := ParseCertManifest(a.Manifest)
	if err != nil || v != "0.1.0" || fp != CertFingerprint(der) || layer.Digest != Digest(der) || layer.MediaType != CertMediaType {
		t.Fatalf("ParseCertManifest = %v %q %q %v", layer, v, fp, err)
	}
	tag, err := CertTag("0.1.0")
	if err != nil || tag != "0.1.0__cert" || !ValidTag(tag) {
		t.Fatalf("CertTag = %q, %v", tag, err)
	}
	if _, _, _, err := ParseModuleTag(tag); err == nil {
		t.Error("the certificate tag parses as a module tag")
	}
	if _, err := ParseVersionTag(tag); err == nil {
		t.Error("the certificate tag parses as a version tag")
	}
	for name, tc := range map[string]struct {
		raw  string
		want string
	}{
		"module manifest": {raw: `{"artifactType":"` + ArtifactType + `","layers":[]}`, want: "not a dnsmon module signing certificate"},
		"two layers": {raw: `{"artifactType":"` + CertArtifactType + `","layers":[{"mediaType":"application/x-x509-ca-cert","size":1},{"mediaType":"application/x-x509-ca-cert","size":1}]}`,
			want: "exactly one"},
		"too large": {raw: `{"artifactType":"` + CertArtifactType + `","layers":[{"mediaType":"application/x-x509-ca-cert","size":99999999}]}`,
			want: "at most"},
		"not json": {raw: "{", want: "parsing"},
	} {
		if _, _, _, err := ParseCertManifest([]byte(tc.raw)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := BuildCert("0.1.0", nil); err == nil {
		t.Error("BuildCert accepted an empty certificate")
	}
}
