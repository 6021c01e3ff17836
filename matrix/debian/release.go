package debian

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

var (
	//go:embed keyring/debian-archive-keyring.gpg
	debianArchiveKeyring []byte
	//go:embed keyring/ubuntu-archive-keyring.gpg
	ubuntuArchiveKeyring []byte
)

// DefaultKeyring returns the Debian archive signing keys embedded in this
// package (keyring/README.md says which), the keys a Debian suite's
// InRelease must be signed with unless WithKeyring says otherwise.
var DefaultKeyring = sync.OnceValues(func() (openpgp.EntityList, error) {
	return readKeyring("Debian", debianArchiveKeyring)
})

// UbuntuKeyring returns the Ubuntu archive signing keys embedded in this
// package, the keys an Ubuntu suite's InRelease must be signed with unless
// WithKeyring says otherwise.
var UbuntuKeyring = sync.OnceValues(func() (openpgp.EntityList, error) {
	return readKeyring("Ubuntu", ubuntuArchiveKeyring)
})

// UbuntuKeyringFile is the embedded Ubuntu archive keyring as a file, for
// debootstrap's --keyring.
func UbuntuKeyringFile() []byte { return bytes.Clone(ubuntuArchiveKeyring) }

func readKeyring(archive string, b []byte) (openpgp.EntityList, error) {
	kr, err := openpgp.ReadKeyRing(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading the embedded %s archive keyring: %w", archive, err)
	}
	return kr, nil
}

// ErrUnsigned is matched by every error about a suite's InRelease that is
// not signed by a trusted key.
var ErrUnsigned = errors.New("not signed by a trusted key")

// Release is what a suite's signed InRelease says.
type Release struct {
	// Files maps the path of each index file below dists/SUITE/ (e.g.
	// "main/binary-amd64/Packages.xz") to its size and SHA-256.
	Files map[string]FileHash
	// ValidUntil is the end of the file's validity; zero when it has none.
	ValidUntil time.Time
	// ByHash says the mirror serves index files by their hash
	// (Acquire-By-Hash: yes), which never changes under a reader.
	ByHash bool
}

// FileHash is the size and SHA-256 (hex) of one index file.
type FileHash struct {
	Size   int64
	SHA256 string
}

// VerifyInRelease checks the clearsigned InRelease data against keyring
// and returns what it says.
func VerifyInRelease(data []byte, keyring openpgp.KeyRing) (Release, error) {
	block, _ := clearsign.Decode(data)
	if block == nil {
		return Release{}, fmt.Errorf("%w: no clearsigned message", ErrUnsigned)
	}
	if _, err := block.VerifySignature(keyring, nil); err != nil {
		return Release{}, fmt.Errorf("%w: %v", ErrUnsigned, err)
	}
	return ParseRelease(block.Plaintext)
}

// ParseRelease reads the fields of a Release file that the client uses:
// SHA256, Valid-Until and Acquire-By-Hash.
func ParseRelease(text []byte) (Release, error) {
	r := Release{Files: map[string]FileHash{}}
	field := ""
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if field != "SHA256" {
				continue
			}
			fs := strings.Fields(line)
			if len(fs) != 3 {
				return Release{}, fmt.Errorf("Release line %d: want HASH SIZE PATH, got %q", n, line)
			}
			size, err := strconv.ParseInt(fs[1], 10, 64)
			if err != nil || size < 0 || len(fs[0]) != 64 {
				return Release{}, fmt.Errorf("Release line %d: bad SHA256 entry %q", n, line)
			}
			r.Files[fs[2]] = FileHash{Size: size, SHA256: strings.ToLower(fs[0])}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return Release{}, fmt.Errorf("Release line %d: not a field: %q", n, line)
		}
		field = name
		value = strings.TrimSpace(value)
		switch name {
		case "Valid-Until":
			t, err := time.Parse(time.RFC1123, strings.Replace(value, "UTC", "GMT", 1))
			if err != nil {
				return Release{}, fmt.Errorf("Release line %d: bad Valid-Until %q: %w", n, value, err)
			}
			r.ValidUntil = t
		case "Acquire-By-Hash":
			r.ByHash = value == "yes"
		}
	}
	if err := sc.Err(); err != nil {
		return Release{}, err
	}
	if len(r.Files) == 0 {
		return Release{}, errors.New("Release has no SHA256 entries")
	}
	return r, nil
}
