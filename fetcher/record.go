package fetcher

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dnsmon/dnsmon/kmod/atomicfile"
)

// RecordSuffix is appended to the module's path to name its record.
const RecordSuffix = ".json"

// Record describes an installed module; Fetch writes it as JSON beside the
// .ko (dnsmon.ko.json).
type Record struct {
	// Path is the module file.
	Path string `json:"path"`
	// Source is where it came from (repository, oci-layout:DIR or bundle).
	Source string `json:"source"`
	// Manifest and Layer are the artifact's digests.
	Manifest string `json:"manifest_digest"`
	Layer    string `json:"layer_digest"`
	// KoDigest is the sha256 of the .ko as written.
	KoDigest string `json:"ko_digest"`
	// Signer is the fingerprint of the verifying key ("sha256:…").
	Signer string `json:"signer,omitempty"`
	// Verified is false when signature checks were skipped.
	Verified bool `json:"signature_verified"`
	// ModuleSigned is true when the .ko carries an appended module
	// signature (the one the kernel checks).
	ModuleSigned bool `json:"module_signed"`
	// SigningCert is the fingerprint ("sha256:…" of the DER) of the module
	// signing certificate the module's signature was verified against;
	// empty when the source publishes none.
	SigningCert string `json:"signing_cert,omitempty"`
	// SigningCertPath is where that certificate was written (for mokutil
	// --import and dnsmon-load).
	SigningCertPath string `json:"signing_cert_path,omitempty"`
	// Kernel and Arch are the target.
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	// Version is the module version.
	Version      string    `json:"version"`
	Vermagic     string    `json:"vermagic"`
	Srcversion   string    `json:"srcversion,omitempty"`
	SourceDigest string    `json:"source_digest,omitempty"`
	Created      time.Time `json:"created"`
	FetchedAt    time.Time `json:"fetched_at"`
}

// writeModule writes ko to path and the record beside it, each atomically.
func writeModule(path string, ko []byte, rec *Record) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("installing module: %w", err)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding record: %w", err)
	}
	if err := atomicfile.Write(path, ko, 0o644); err != nil {
		return fmt.Errorf("installing module: %w", err)
	}
	if err := atomicfile.Write(path+RecordSuffix, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("installing module record: %w", err)
	}
	return nil
}
