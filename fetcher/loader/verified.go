package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dnsmon/dnsmon/kmod"
)

// maxRecordSize bounds the fetch record read (a few hundred bytes).
const maxRecordSize = 64 << 10

// RecordPath is the record dnsmon-fetch writes beside the module it
// verified for release (kmod.DefaultPath).
func RecordPath(release string) string { return kmod.DefaultPath(release) + ".json" }

// Verified reports whether the module file at path holds exactly the bytes
// that dnsmon-fetch verified (artifact signature, digest, vermagic): the
// record it wrote at rec (RecordPath) names their SHA-256, and neither the
// record nor its directory can be written by anyone but root. Any other
// file, or an untrustworthy record, is not verified; the reason says why.
func Verified(path, rec string) (ok bool, reason string) {
	f, err := os.Open(rec)
	if err != nil {
		return false, fmt.Sprintf("no dnsmon-fetch record at %s", rec)
	}
	defer f.Close()
	// The record as opened, and the directory that names it.
	fi, err := f.Stat()
	if err != nil {
		return false, err.Error()
	}
	if err := writableByOthers(rec, fi); err != nil {
		return false, err.Error()
	}
	if di, err := os.Stat(filepath.Dir(rec)); err != nil {
		return false, err.Error()
	} else if err := writableByOthers(filepath.Dir(rec), di); err != nil {
		return false, err.Error()
	}
	var r struct {
		KoDigest string `json:"ko_digest"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxRecordSize)).Decode(&r); err != nil || r.KoDigest == "" {
		return false, fmt.Sprintf("%s is not a dnsmon-fetch record", rec)
	}
	m, err := os.Open(path)
	if err != nil {
		return false, err.Error()
	}
	defer m.Close()
	h := sha256.New()
	if _, err := io.Copy(h, m); err != nil {
		return false, err.Error()
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != r.KoDigest {
		return false, fmt.Sprintf("it is not the module dnsmon-fetch verified and recorded in %s (sha256 %s, not %s)", rec, got, r.KoDigest)
	}
	return true, ""
}
