package kmodtest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Module describes a fake module file.
type Module struct {
	// Name defaults to "dnsmon"; Version to "0.1.0".
	Name, Version string
	// Release goes into vermagic: "RELEASE SMP preempt mod_unload modversions ".
	Release string
	// Padding adds that many bytes of a .text section, to make the file
	// bigger.
	Padding int
}

// Vermagic returns the vermagic string the fake module for release carries.
func Vermagic(release string) string { return release + " SMP preempt mod_unload modversions " }

// KO returns a minimal ELF64 relocatable object (x86-64, little endian)
// with a .modinfo section, which debug/elf and kmod/modinfo read like a
// real kernel module. It cannot be loaded.
func KO(m Module) []byte {
	if m.Name == "" {
		m.Name = "dnsmon"
	}
	if m.Version == "" {
		m.Version = "0.1.0"
	}
	modinfo := fmt.Sprintf("license=GPL\x00version=%s\x00description=fake module for tests\x00srcversion=0123456789ABCDEF0123456\x00depends=\x00name=%s\x00vermagic=%s\x00",
		m.Version, m.Name, Vermagic(m.Release))
	text := bytes.Repeat([]byte{0x90}, m.Padding) // nop
	shstr := "\x00.modinfo\x00.shstrtab\x00.text\x00"
	const ehsize, shsize = 64, 64
	offModinfo := uint64(ehsize)
	offText := offModinfo + uint64(len(modinfo))
	offShstr := offText + uint64(len(text))
	offSh := (offShstr + uint64(len(shstr)) + 7) &^ 7

	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: offSh, Ehsize: ehsize, Shentsize: shsize, Shnum: 4, Shstrndx: 2,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, h)
	b.WriteString(modinfo)
	b.Write(text)
	b.WriteString(shstr)
	for uint64(b.Len()) < offSh {
		b.WriteByte(0)
	}
	secs := []elf.Section64{
		{},
		{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: offModinfo, Size: uint64(len(modinfo)), Addralign: 1},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: offShstr, Size: uint64(len(shstr)), Addralign: 1},
		{Name: 20, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR), Off: offText, Size: uint64(len(text)), Addralign: 1},
	}
	for _, s := range secs {
		binary.Write(&b, binary.LittleEndian, s)
	}
	return b.Bytes()
}
