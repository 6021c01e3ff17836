package rpmrepo

import (
	"compress/bzip2"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ErrMalformed is returned for metadata that is not what repodata holds.
var ErrMalformed = errors.New("malformed repository metadata")

// Data is one <data> entry of repomd.xml: a metadata file of the repository.
type Data struct {
	// Type is the metadata kind: "primary", "filelists", "other", ….
	Type string
	// Href is the file's path relative to the repository's base URL, e.g.
	// "repodata/0123…-primary.xml.gz".
	Href string
	// ChecksumType and Checksum are the digest of the file as stored
	// (compressed), e.g. "sha256" and its hex.
	ChecksumType, Checksum string
	// Size is the stored size in bytes; 0 when repomd.xml omits it.
	Size int64
}

type repomdXML struct {
	XMLName xml.Name `xml:"repomd"`
	Data    []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Size int64 `xml:"size"`
	} `xml:"data"`
}

// maxRepomd bounds repomd.xml; real ones are a few kilobytes.
const maxRepomd = 1 << 20

// ParseRepomd reads repomd.xml and returns its data entries.
func ParseRepomd(r io.Reader) ([]Data, error) {
	var doc repomdXML
	if err := xml.NewDecoder(io.LimitReader(r, maxRepomd)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parsing repomd.xml: %w: %w", ErrMalformed, err)
	}
	var out []Data
	for _, d := range doc.Data {
		if d.Type == "" || d.Location.Href == "" {
			return nil, fmt.Errorf("parsing repomd.xml: <data> without type or location: %w", ErrMalformed)
		}
		out = append(out, Data{Type: d.Type, Href: d.Location.Href, ChecksumType: d.Checksum.Type,
			Checksum: strings.ToLower(strings.TrimSpace(d.Checksum.Value)), Size: d.Size})
	}
	return out, nil
}

// Primary returns the "primary" entry of a repomd.xml.
func Primary(data []Data) (Data, error) {
	for _, d := range data {
		if d.Type == "primary" {
			return d, nil
		}
	}
	return Data{}, fmt.Errorf("repomd.xml lists no primary metadata: %w", ErrMalformed)
}

// Package is one <package> of a primary listing.
type Package struct {
	// Name, Arch, Epoch, Version and Release are the package's NEVRA;
	// Epoch is "0" when unset.
	Name, Arch, Epoch, Version, Release string
	// Location is the .rpm's path relative to the repository's base URL.
	Location string
}

// NVRA returns "NAME-VERSION-RELEASE.ARCH", as rpm -q prints it.
func (p Package) NVRA() string { return p.Name + "-" + p.Version + "-" + p.Release + "." + p.Arch }

type packageXML struct {
	Type    string `xml:"type,attr"`
	Name    string `xml:"name"`
	Arch    string `xml:"arch"`
	Version struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	} `xml:"version"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
}

// ParsePrimary streams a decompressed primary.xml and returns the packages
// for which keep returns true (all when keep is nil). Only the fields of
// Package are decoded; the file lists of real repositories make it large.
func ParsePrimary(r io.Reader, keep func(name, arch string) bool) ([]Package, error) {
	dec := xml.NewDecoder(r)
	var out []Package
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parsing primary.xml: %w: %w", ErrMalformed, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "metadata":
			sawRoot = true
		case "package":
			var p packageXML
			if err := dec.DecodeElement(&p, &se); err != nil {
				return nil, fmt.Errorf("parsing primary.xml: %w: %w", ErrMalformed, err)
			}
			if p.Type != "" && p.Type != "rpm" {
				continue
			}
			if p.Name == "" || p.Version.Ver == "" || p.Version.Rel == "" || p.Arch == "" {
				return nil, fmt.Errorf("parsing primary.xml: package %q without name, version, release or arch: %w", p.Name, ErrMalformed)
			}
			if keep != nil && !keep(p.Name, p.Arch) {
				continue
			}
			epoch := p.Version.Epoch
			if epoch == "" {
				epoch = "0"
			}
			out = append(out, Package{Name: p.Name, Arch: p.Arch, Epoch: epoch, Version: p.Version.Ver,
				Release: p.Version.Rel, Location: p.Location.Href})
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("parsing primary.xml: no <metadata> element: %w", ErrMalformed)
	}
	return out, nil
}

// Decompress wraps r by the compression a metadata file name ends in:
// .gz, .xz, .zst, .bz2 or none. The returned closer releases the decoder.
func Decompress(r io.Reader, name string) (io.Reader, func(), error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("decompressing %q: %w", name, err)
		}
		return zr, func() { zr.Close() }, nil
	case strings.HasSuffix(name, ".xz"):
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("decompressing %q: %w", name, err)
		}
		return zr, func() {}, nil
	case strings.HasSuffix(name, ".zst"), strings.HasSuffix(name, ".zstd"):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, fmt.Errorf("decompressing %q: %w", name, err)
		}
		return zr, zr.Close, nil
	case strings.HasSuffix(name, ".bz2"):
		return bzip2.NewReader(r), func() {}, nil
	}
	return r, func() {}, nil
}
