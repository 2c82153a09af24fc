// Package cargoauditable extracts the Rust crates compiled into executables
// built with cargo-auditable (https://github.com/rust-secure-code/cargo-auditable),
// which embeds the dependency tree in a dedicated section.
//
// Format: the section ".dep-v0" (ELF and PE; section ".dep-v0" of segment
// __DATA in Mach-O, also inside universal binaries) holds a zlib stream of
// JSON as described by auditable-serde's VersionInfo (schema
// https://rustsec.org/schemas/cargo-auditable.json, format revisions 0, 1
// and 8):
//
//	{"format":1,"packages":[{"name":"adler","version":"1.0.2","source":"crates.io",
//	  "kind":"build","dependencies":[3,4],"root":true}, ...]}
//
// "source" is "crates.io", "git", "local", "registry" or {"Other": "..."};
// "kind" is "runtime" (the default when omitted) or "build";
// "dependencies" are indices into the packages array.
//
// Packages are the root crate (type application, relationship direct), the
// root's runtime dependencies (direct) and the rest (transitive); without a
// root every crate's relationship is unknown. Build-only crates (build
// scripts' dependencies and, in format 1, proc-macros) are not compiled into
// the binary: they are skipped, with the dependency edges leading to them,
// as Trivy, Syft and osv-scalibar do. Purls are pkg:cargo/name@version
// whatever the source.
//
// Files are claimed exactly as plugins/deps/gobinary claims them (executable
// permission bits or a .exe name, a size between minSize and maxSize, not a
// script or text file by name). A claimed file that is not an executable, or
// an executable without the section (a Go or C program), gives an empty
// result, never an error: only audit data that is present and cannot be read
// is an error. The compressed section is capped at maxCompressed bytes and
// its decompressed JSON at maxJSON bytes (zip-bomb safe); an ELF header
// whose tables lie beyond the end of the file is not handed to debug/elf.
// WebAssembly modules (custom section .dep-v0) are not read.
package cargoauditable

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/shipgate/shipgate/internal/purls"
	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/internal/binfile"
)

// Name is the analyzer's id.
const Name = "cargo-auditable"

// sectionName is the name of the audit data section.
const sectionName = ".dep-v0"

const (
	// minSize is the smallest file considered (as gobinary).
	minSize = 4 << 10
	// maxSize is the largest file considered (as gobinary).
	maxSize = 1 << 30
	// maxCompressed is the largest audit section read, in bytes.
	maxCompressed = 8 << 20
	// maxJSON is the largest decompressed audit data accepted, in bytes
	// (real data is a few hundred bytes per crate).
	maxJSON = 16 << 20
	// maxErrors bounds Result.Errors.
	maxErrors = 200
)

// Analyzer reads cargo-auditable executables.
type Analyzer struct{}

// New returns the cargo-auditable analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements plugins.Analyzer.
func (*Analyzer) Name() string { return Name }

// Stage implements plugins.Analyzer.
func (*Analyzer) Stage() string { return report.StageDeps }

// FileRequired claims regular executable files of plausible size.
func (*Analyzer) FileRequired(p string, info fs.FileInfo) bool {
	return binfile.Executable(p, info, minSize, maxSize)
}

// Analyze implements plugins.Analyzer.
func (*Analyzer) Analyze(ctx context.Context, in *plugins.Input) (*plugins.Result, error) {
	ra, size, cleanup, err := binfile.ReaderAt(in, maxSize, "cargoauditable")
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	defer cleanup()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sec, err := findSection(ra, size)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: err}
	}
	if sec == nil {
		return &plugins.Result{}, nil
	}
	data, err := decompress(sec)
	if err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("section %s: %w", sectionName, err)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var vi versionInfo
	if err := json.Unmarshal(data, &vi); err != nil {
		return nil, &plugins.ParseError{Path: in.Path, Err: fmt.Errorf("section %s: invalid audit JSON: %w", sectionName, err)}
	}
	return packages(in.Path, &vi), nil
}

// versionInfo is the part of auditable-serde's VersionInfo that is read
// ("format" and each package's "source" are not needed).
type versionInfo struct {
	Packages []auditedPkg `json:"packages"`
}

// auditedPkg is one entry of VersionInfo.packages.
type auditedPkg struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Kind         string `json:"kind"`
	Dependencies []int  `json:"dependencies"`
	Root         bool   `json:"root"`
}

// packages turns audit data into packages.
func packages(file string, vi *versionInfo) *plugins.Result {
	res := &plugins.Result{}
	addErr := func(msg string) {
		if len(res.Errors) < maxErrors {
			res.Errors = append(res.Errors, report.FileError{Path: file, Message: msg})
		}
	}
	n := len(vi.Packages)
	// refs[i] is the bom-ref of entry i, "" when it is not reported.
	refs := make([]string, n)
	hasRoot := false
	for i, p := range vi.Packages {
		switch {
		case p.Kind == "build":
			continue
		case p.Kind != "" && p.Kind != "runtime":
			addErr(fmt.Sprintf("package %d (%s %s): unknown kind %q, read as runtime", i, p.Name, p.Version, p.Kind))
		}
		if strings.TrimSpace(p.Name) == "" || strings.TrimSpace(p.Version) == "" {
			addErr(fmt.Sprintf("package %d has no name or version", i))
			continue
		}
		refs[i] = plugins.Ref(file, purls.Build(report.EcosystemCargo, p.Name, p.Version))
		if p.Root {
			hasRoot = true
		}
	}
	direct := map[int]bool{}
	for i, p := range vi.Packages {
		if p.Root && refs[i] != "" {
			for _, d := range p.Dependencies {
				direct[d] = true
			}
		}
	}

	loc := []report.Location{{Path: file}}
	seen := map[string]int{} // bom-ref -> index in res.Packages
	for i, p := range vi.Packages {
		if refs[i] == "" {
			continue
		}
		var deps []string
		depSeen := map[string]bool{}
		for _, d := range p.Dependencies {
			if d < 0 || d >= n {
				addErr(fmt.Sprintf("%s %s: dependency index %d out of range (%d packages)", p.Name, p.Version, d, n))
				continue
			}
			if r := refs[d]; r != "" && !depSeen[r] && r != refs[i] {
				depSeen[r] = true
				deps = append(deps, r)
			}
		}
		if j, ok := seen[refs[i]]; ok {
			// The same crate from two sources: one component, the
			// union of their dependencies, the closest relationship.
			q := &res.Packages[j]
			for _, r := range deps {
				if !slices.Contains(q.DependsOn, r) {
					q.DependsOn = append(q.DependsOn, r)
				}
			}
			if p.Root {
				q.Type, q.Relationship = report.TypeApplication, report.RelationshipDirect
			} else if direct[i] && q.Relationship == report.RelationshipTransitive {
				q.Relationship = report.RelationshipDirect
			}
			continue
		}
		pkg := report.Package{
			BOMRef:       refs[i],
			Name:         p.Name,
			Version:      p.Version,
			Purl:         purls.Build(report.EcosystemCargo, p.Name, p.Version),
			Ecosystem:    report.EcosystemCargo,
			Type:         report.TypeLibrary,
			Locations:    loc,
			Relationship: report.RelationshipUnknown,
			DependsOn:    deps,
			Analyzer:     Name,
		}
		switch {
		case p.Root:
			pkg.Type, pkg.Relationship = report.TypeApplication, report.RelationshipDirect
		case !hasRoot:
		case direct[i]:
			pkg.Relationship = report.RelationshipDirect
		default:
			pkg.Relationship = report.RelationshipTransitive
		}
		seen[refs[i]] = len(res.Packages)
		res.Packages = append(res.Packages, pkg)
	}
	return res
}

// decompress inflates the zlib stream read from r, refusing more than
// maxJSON bytes of output.
func decompress(r io.Reader) ([]byte, error) {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not zlib data: %w", err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if len(data) > maxJSON {
		return nil, fmt.Errorf("decompressed audit data larger than %d bytes", maxJSON)
	}
	return data, nil
}

// errBigSection is returned for a section larger than maxCompressed.
var errBigSection = fmt.Errorf("section %s larger than %d bytes", sectionName, maxCompressed)

// findSection returns a reader of the audit section's content, or nil when
// ra is not an executable this package reads or has no such section. An
// error means the section exists but cannot be read.
func findSection(ra io.ReaderAt, size int64) (io.Reader, error) {
	var magic [4]byte
	if n, _ := ra.ReadAt(magic[:], 0); n < 4 {
		return nil, nil
	}
	m := string(magic[:])
	switch {
	case m == "\x7fELF":
		if !elfTablesFit(ra, size) {
			return nil, nil
		}
		f, err := elf.NewFile(ra)
		if err != nil {
			return nil, nil // not an ELF file this reader understands
		}
		s := f.Section(sectionName)
		if s == nil {
			return nil, nil
		}
		if s.Type == elf.SHT_NOBITS {
			return nil, fmt.Errorf("section %s has no data", sectionName)
		}
		if s.Size > maxCompressed {
			return nil, errBigSection
		}
		return limited(s.Open())
	case m[:2] == "MZ":
		f, err := pe.NewFile(ra)
		if err != nil {
			return nil, nil
		}
		s := f.Section(sectionName)
		if s == nil {
			return nil, nil
		}
		if s.Size > maxCompressed {
			return nil, errBigSection
		}
		return limited(s.Open())
	case m == "\xfe\xed\xfa\xce", m == "\xfe\xed\xfa\xcf", m == "\xce\xfa\xed\xfe", m == "\xcf\xfa\xed\xfe":
		f, err := macho.NewFile(ra)
		if err != nil {
			return nil, nil
		}
		return machoSection(f)
	case m == "\xca\xfe\xba\xbe":
		ff, err := macho.NewFatFile(ra)
		if err != nil {
			return nil, nil // also Java class files share this magic
		}
		for _, a := range ff.Arches {
			if r, err := machoSection(a.File); r != nil || err != nil {
				return r, err
			}
		}
	}
	return nil, nil
}

// elfTablesFit reports whether the program header table, the section
// header table and the section name table that the ELF header of ra
// declares lie within its size bytes. debug/elf allocates what the header
// claims (up to 10 MB at a time) before finding out that the file is
// shorter; this check keeps a corrupt header cheap.
func elfTablesFit(ra io.ReaderAt, size int64) bool {
	var h [64]byte
	if n, _ := ra.ReadAt(h[:], 0); n < 52 {
		return false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h[elf.EI_DATA] == byte(elf.ELFDATA2MSB) {
		bo = binary.BigEndian
	}
	is64 := h[elf.EI_CLASS] == byte(elf.ELFCLASS64)
	var phoff, shoff uint64
	var rest []byte // phentsize, phnum, shentsize, shnum, shstrndx
	if is64 {
		phoff, shoff, rest = bo.Uint64(h[32:]), bo.Uint64(h[40:]), h[54:64]
	} else {
		phoff, shoff, rest = uint64(bo.Uint32(h[28:])), uint64(bo.Uint32(h[32:])), h[42:52]
	}
	phentsize, phnum := uint64(bo.Uint16(rest[0:])), uint64(bo.Uint16(rest[2:]))
	shentsize, shnum, shstrndx := uint64(bo.Uint16(rest[4:])), uint64(bo.Uint16(rest[6:])), uint64(bo.Uint16(rest[8:]))
	fits := func(off, n uint64) bool {
		return off <= uint64(size) && n <= uint64(size)-off
	}
	if !fits(phoff, phnum*phentsize) || shoff == 0 {
		return shoff == 0 && fits(phoff, phnum*phentsize)
	}
	// sectionField reads a field of section header i at offset off64
	// (ELF64) or off32 (ELF32); wide fields are 8 bytes in ELF64.
	sectionField := func(i, off64, off32 uint64, wide bool) (uint64, bool) {
		if shentsize < 40 {
			return 0, false
		}
		var b [8]byte
		switch {
		case is64 && wide:
			if _, err := ra.ReadAt(b[:8], int64(shoff+i*shentsize+off64)); err != nil {
				return 0, false
			}
			return bo.Uint64(b[:]), true
		case is64:
			if _, err := ra.ReadAt(b[:4], int64(shoff+i*shentsize+off64)); err != nil {
				return 0, false
			}
		default:
			if _, err := ra.ReadAt(b[:4], int64(shoff+i*shentsize+off32)); err != nil {
				return 0, false
			}
		}
		return uint64(bo.Uint32(b[:])), true
	}
	if !fits(shoff, shentsize) {
		return false
	}
	if shnum == 0 { // extended numbering: the count is section 0's size
		n, ok := sectionField(0, 32, 20, true)
		if !ok {
			return false
		}
		shnum = n
	}
	if shnum > uint64(size) || !fits(shoff, shnum*shentsize) {
		return false
	}
	if shstrndx == uint16max { // SHN_XINDEX: the index is section 0's link
		n, ok := sectionField(0, 40, 24, false)
		if !ok {
			return false
		}
		shstrndx = n
	}
	if shstrndx >= shnum {
		return shnum == 0
	}
	off, ok1 := sectionField(shstrndx, 24, 16, true)
	n, ok2 := sectionField(shstrndx, 32, 20, true)
	return ok1 && ok2 && fits(off, n)
}

const uint16max = 0xffff

// machoSection returns the __DATA,.dep-v0 section of f, or nil.
func machoSection(f *macho.File) (io.Reader, error) {
	for _, s := range f.Sections {
		if s.Name == sectionName && s.Seg == "__DATA" {
			if s.Size > maxCompressed {
				return nil, errBigSection
			}
			return limited(s.Open())
		}
	}
	return nil, nil
}

// limited reads at most maxCompressed bytes of r into memory.
func limited(r io.Reader) (io.Reader, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCompressed+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read section %s: %w", sectionName, err)
	}
	if len(data) > maxCompressed {
		return nil, errBigSection
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("section %s is empty", sectionName)
	}
	return bytes.NewReader(data), nil
}
