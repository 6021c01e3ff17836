package modinfo

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxModinfoSize bounds the .modinfo section that Read accepts. Real modules
// carry a few hundred bytes to a few tens of kilobytes (drivers with many
// aliases); anything past this is not a module.
const MaxModinfoSize = 1 << 20

// SectionName is the ELF section holding the module's key=value pairs.
const SectionName = ".modinfo"

var (
	// ErrNotELF means the data is not an ELF file (nor a compressed one
	// when the caller decompresses).
	ErrNotELF = errors.New("not an ELF file")
	// ErrNoModinfo means the ELF file has no .modinfo section: it is not a
	// kernel module.
	ErrNoModinfo = errors.New("no .modinfo section (not a kernel module)")
	// ErrMalformed means the .modinfo section is not NUL-separated
	// key=value text.
	ErrMalformed = errors.New("malformed .modinfo")
)

// Field is one key=value entry of .modinfo, in file order.
type Field struct {
	Key   string
	Value string
}

// Param is a module parameter as declared by MODULE_PARM_DESC (parm=) and
// module_param (parmtype=).
type Param struct {
	Name        string
	Type        string // "int", "bool", "array of ushort", ... ("" when undeclared)
	Description string
}

// Info is the parsed .modinfo of a module.
type Info struct {
	Name        string   // name=, as the kernel will call the module
	Version     string   // version= (MODULE_VERSION), may be empty
	Vermagic    string   // vermagic=, e.g. "6.1.0-56-amd64 SMP preempt mod_unload modversions "
	SrcVersion  string   // srcversion=, a digest of the sources
	License     string   // license=
	Description string   // description=
	Depends     []string // depends=, split on commas; nil when empty
	Params      []Param  // in order of first appearance
	Fields      []Field  // every entry, in file order
}

// Get returns every value of key, in file order.
func (i *Info) Get(key string) []string {
	var vs []string
	for _, f := range i.Fields {
		if f.Key == key {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Param returns the parameter called name.
func (i *Info) Param(name string) (Param, bool) {
	for _, p := range i.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Parse parses the contents of a .modinfo section: NUL-separated key=value
// entries, with any run of NULs (alignment padding) between them.
func Parse(data []byte) (*Info, error) {
	if len(data) > MaxModinfoSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(data), MaxModinfoSize)
	}
	info := &Info{}
	params := map[string]int{}
	param := func(name string) *Param {
		i, ok := params[name]
		if !ok {
			i = len(info.Params)
			params[name] = i
			info.Params = append(info.Params, Param{Name: name})
		}
		return &info.Params[i]
	}
	for n, entry := range bytes.Split(data, []byte{0}) {
		if len(entry) == 0 {
			continue
		}
		k, v, ok := strings.Cut(string(entry), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: entry %d %q is not key=value", ErrMalformed, n, truncate(string(entry)))
		}
		info.Fields = append(info.Fields, Field{Key: k, Value: v})
		switch k {
		case "name":
			info.Name = v
		case "version":
			info.Version = v
		case "vermagic":
			info.Vermagic = v
		case "srcversion":
			info.SrcVersion = v
		case "license":
			info.License = v
		case "description":
			info.Description = v
		case "depends":
			if v != "" {
				info.Depends = strings.Split(v, ",")
			}
		case "parm", "parmtype":
			name, text, ok := strings.Cut(v, ":")
			if !ok || name == "" {
				return nil, fmt.Errorf("%w: %s entry %q is not NAME:TEXT", ErrMalformed, k, truncate(v))
			}
			p := param(name)
			if k == "parm" {
				p.Description = text
			} else {
				p.Type = text
			}
		}
	}
	if len(info.Fields) == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrMalformed)
	}
	return info, nil
}

// Read reads the .modinfo of the uncompressed ELF module in r. A compressed
// file gives an error naming its compression; see ReadFile and Decompress.
func Read(r io.ReaderAt) (*Info, error) {
	var head [6]byte
	n, _ := r.ReadAt(head[:], 0)
	if c := DetectCompression(head[:n]); c != None {
		return nil, fmt.Errorf("%w: %s-compressed data, decompress it first", ErrNotELF, c)
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotELF, err)
	}
	sec := f.Section(SectionName)
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil, ErrNoModinfo
	}
	if sec.Size > MaxModinfoSize {
		return nil, fmt.Errorf("%w: section of %d bytes, more than %d", ErrMalformed, sec.Size, MaxModinfoSize)
	}
	data, err := io.ReadAll(io.LimitReader(sec.Open(), MaxModinfoSize))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", SectionName, err)
	}
	return Parse(data)
}

// ReadFile reads the .modinfo of the module file at path, decompressing a
// .ko.zst, .ko.xz or .ko.gz file in memory (detected by its magic bytes, not
// its name) up to limit bytes; limit <= 0 means DefaultMaxModuleSize.
func ReadFile(ctx context.Context, path string, limit int64) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading module %q: %w", path, err)
	}
	defer f.Close()
	c, err := DetectFile(f)
	if err != nil {
		return nil, fmt.Errorf("reading module %q: %w", path, err)
	}
	var info *Info
	if c == None {
		info, err = Read(f)
	} else {
		var buf bytes.Buffer
		if _, err := Decompress(ctx, &buf, f, limit); err != nil {
			return nil, fmt.Errorf("reading module %q: %w", path, err)
		}
		info, err = Read(bytes.NewReader(buf.Bytes()))
	}
	if err != nil {
		return nil, fmt.Errorf("reading module %q: %w", path, err)
	}
	return info, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
