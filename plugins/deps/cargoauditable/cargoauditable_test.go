package cargoauditable

//go:generate go run gen_testdata.go

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shipgate/shipgate/internal/report"
	"github.com/shipgate/shipgate/plugins"
	"github.com/shipgate/shipgate/plugins/deps/gobinary"
	"github.com/shipgate/shipgate/plugins/plugintest"
)

func byPurl(res *plugins.Result) map[string]report.Package {
	got := map[string]report.Package{}
	for _, p := range res.Packages {
		got[p.Purl] = p
	}
	return got
}

// helloWant is what testdata/app.json holds once build-only crates are left
// out: purl -> relationship and the purls it depends on.
var helloWant = map[string]struct {
	rel  string
	deps []string
}{
	"pkg:cargo/hello-auditable@0.1.0": {report.RelationshipDirect, []string{"pkg:cargo/flate2@1.0.28", "pkg:cargo/internal-util@0.3.0", "pkg:cargo/openssl-sys@0.9.96", "pkg:cargo/serde@1.0.193"}},
	"pkg:cargo/flate2@1.0.28":         {report.RelationshipDirect, []string{"pkg:cargo/crc32fast@1.3.2", "pkg:cargo/miniz_oxide@0.7.1"}},
	"pkg:cargo/internal-util@0.3.0":   {report.RelationshipDirect, []string{"pkg:cargo/libc@0.2.150"}},
	"pkg:cargo/openssl-sys@0.9.96":    {report.RelationshipDirect, []string{"pkg:cargo/libc@0.2.150"}},
	"pkg:cargo/serde@1.0.193":         {report.RelationshipDirect, nil},
	"pkg:cargo/crc32fast@1.3.2":       {report.RelationshipTransitive, []string{"pkg:cargo/cfg-if@1.0.0"}},
	"pkg:cargo/miniz_oxide@0.7.1":     {report.RelationshipTransitive, []string{"pkg:cargo/adler@1.0.2"}},
	"pkg:cargo/adler@1.0.2":           {report.RelationshipTransitive, nil},
	"pkg:cargo/cfg-if@1.0.0":          {report.RelationshipTransitive, nil},
	"pkg:cargo/libc@0.2.150":          {report.RelationshipTransitive, nil},
}

// checkHello compares a result against helloWant.
func checkHello(t *testing.T, file string, res *plugins.Result) {
	t.Helper()
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
	got := byPurl(res)
	if len(got) != len(helloWant) || len(res.Packages) != len(helloWant) {
		t.Fatalf("got %d packages, want %d: %v", len(res.Packages), len(helloWant), slices.Sorted(func(yield func(string) bool) {
			for k := range got {
				if !yield(k) {
					return
				}
			}
		}))
	}
	refToPurl := map[string]string{}
	for _, p := range res.Packages {
		refToPurl[p.BOMRef] = p.Purl
	}
	for purl, w := range helloWant {
		p, ok := got[purl]
		if !ok {
			t.Errorf("missing %s", purl)
			continue
		}
		if p.Relationship != w.rel {
			t.Errorf("%s: relationship %s, want %s", purl, p.Relationship, w.rel)
		}
		wantType := report.TypeLibrary
		if purl == "pkg:cargo/hello-auditable@0.1.0" {
			wantType = report.TypeApplication
		}
		if p.Type != wantType || p.Ecosystem != report.EcosystemCargo || p.Analyzer != Name || p.Dev {
			t.Errorf("%s: type %s ecosystem %s analyzer %s dev %v", purl, p.Type, p.Ecosystem, p.Analyzer, p.Dev)
		}
		if p.BOMRef != plugins.Ref(file, purl) || len(p.Locations) != 1 || p.Locations[0].Path != file {
			t.Errorf("%s: bom-ref %s locations %v", purl, p.BOMRef, p.Locations)
		}
		var deps []string
		for _, d := range p.DependsOn {
			deps = append(deps, refToPurl[d])
		}
		if !slices.Equal(deps, w.deps) {
			t.Errorf("%s depends on %v, want %v", purl, deps, w.deps)
		}
	}
}

// TestELF reads the committed fixtures (see gen_testdata.go).
func TestELF(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "hello-auditable")
	if err != nil {
		t.Fatal(err)
	}
	checkHello(t, "hello-auditable", res)
}

// TestFormat0 reads a 32-bit ELF with format-0 data: no "kind", two
// versions of one crate, registry and "Other" sources.
func TestFormat0(t *testing.T) {
	res, err := plugintest.Analyze(t, New(), "testdata", "mytool-i386")
	if err != nil {
		t.Fatal(err)
	}
	got := byPurl(res)
	want := map[string]string{
		"pkg:cargo/mytool@0.2.0":   report.RelationshipDirect,
		"pkg:cargo/clap@2.34.0":    report.RelationshipDirect,
		"pkg:cargo/nix@0.27.1":     report.RelationshipDirect,
		"pkg:cargo/bitflags@1.3.2": report.RelationshipTransitive,
		"pkg:cargo/bitflags@2.4.1": report.RelationshipTransitive,
		"pkg:cargo/cfg-if@1.0.0":   report.RelationshipTransitive,
		"pkg:cargo/libc@0.2.150":   report.RelationshipTransitive,
	}
	if len(got) != len(want) || len(res.Errors) != 0 {
		t.Fatalf("got %d packages (%v), errors %v", len(got), got, res.Errors)
	}
	for purl, rel := range want {
		if got[purl].Relationship != rel {
			t.Errorf("%s: relationship %q, want %s", purl, got[purl].Relationship, rel)
		}
	}
	nix := got["pkg:cargo/nix@0.27.1"]
	if !slices.Contains(nix.DependsOn, got["pkg:cargo/bitflags@2.4.1"].BOMRef) || slices.Contains(nix.DependsOn, got["pkg:cargo/bitflags@1.3.2"].BOMRef) {
		t.Errorf("nix depends on %v", nix.DependsOn)
	}
	if got["pkg:cargo/mytool@0.2.0"].Type != report.TypeApplication {
		t.Errorf("root: %+v", got["pkg:cargo/mytool@0.2.0"])
	}
}

// TestContainers puts the same audit data in PE, Mach-O and universal
// Mach-O files.
func TestContainers(t *testing.T) {
	sec := compress(t, readFile(t, "testdata/app.json"))
	tests := map[string][]byte{
		"app.exe": buildPE(sec, ".dep-v0", 0),
		"app":     buildMachO(sec, "__DATA", ".dep-v0"),
		"fat":     buildFat(buildMachO(sec, "__DATA", ".dep-v0")),
		"app-elf": readFile(t, "testdata/hello-auditable"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := plugintest.AnalyzeBytes(New(), name, data)
			if err != nil {
				t.Fatal(err)
			}
			checkHello(t, name, res)
		})
	}
}

// TestNothing checks files that are not cargo-auditable binaries: they give
// an empty result and no error.
func TestNothing(t *testing.T) {
	sec := compress(t, readFile(t, "testdata/app.json"))
	inputs := map[string][]byte{
		"plain ELF":            readFile(t, "testdata/plain"),
		"script":               []byte("#!/bin/sh\necho hello\n"),
		"empty":                nil,
		"junk ELF":             {0x7f, 'E', 'L', 'F', 1, 2, 3},
		"junk PE":              []byte("MZ\x90\x00\x03\x00\x00\x00junk"),
		"PE without section":   buildPE(sec, ".data", 0),
		"Mach-O other segment": buildMachO(sec, "__TEXT", ".dep-v0"),
		"Mach-O other section": buildMachO(sec, "__DATA", "__data"),
		"Java class file":      []byte("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x10"),
		"text":                 []byte(strings.Repeat("hello world\n", 500)),
	}
	if exe, err := os.Executable(); err == nil {
		if data, err := os.ReadFile(exe); err == nil {
			inputs["Go test binary"] = data
		}
	}
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if data, err := os.ReadFile(p); err == nil {
			inputs[p] = data // a C program
			break
		}
	}
	for name, data := range inputs {
		res, err := plugintest.AnalyzeBytes(New(), "x", data)
		if err != nil || res == nil || len(res.Packages) != 0 || len(res.Errors) != 0 {
			t.Errorf("%s: %+v %v", name, res, err)
		}
	}
}

// TestNotBothAnalyzers checks that the Go binary analyzer and this one never
// both report a file: a Go binary is nothing here, a Rust binary nothing there.
func TestNotBothAnalyzers(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	goRes, goErr := plugintest.Analyze(t, gobinary.New(), filepath.Dir(exe), filepath.Base(exe))
	rsRes, rsErr := plugintest.Analyze(t, New(), filepath.Dir(exe), filepath.Base(exe))
	if goErr != nil || len(goRes.Packages) == 0 {
		t.Errorf("go-binary on a Go binary: %v %v", goRes, goErr)
	}
	if rsErr != nil || len(rsRes.Packages) != 0 {
		t.Errorf("cargo-auditable on a Go binary: %v %v", rsRes, rsErr)
	}
	for _, f := range []string{"hello-auditable", "mytool-i386", "plain", "badzlib"} {
		res, err := plugintest.Analyze(t, gobinary.New(), "testdata", f)
		if err != nil || len(res.Packages) != 0 {
			t.Errorf("go-binary on %s: %v %v", f, res, err)
		}
	}
}

func TestErrors(t *testing.T) {
	var bomb bytes.Buffer
	zw := zlib.NewWriter(&bomb)
	zw.Write([]byte(`{"packages":[`))
	zw.Write(make([]byte, maxJSON))
	zw.Close()
	good := compress(t, readFile(t, "testdata/app.json"))
	tests := map[string]struct {
		data []byte
		msg  string
	}{
		"not zlib":       {readFile(t, "testdata/badzlib"), "not zlib"},
		"zip bomb":       {buildPE(bomb.Bytes(), ".dep-v0", 0), "larger than"},
		"truncated zlib": {buildPE(good[:len(good)/2], ".dep-v0", 0), "decompress"},
		"invalid JSON":   {buildPE(compress(t, []byte(`{"packages":[{"name":1}]}`)), ".dep-v0", 0), "invalid audit JSON"},
		"not JSON":       {buildMachO(compress(t, []byte("\x00\x01")), "__DATA", ".dep-v0"), "invalid audit JSON"},
		"huge section":   {buildPE(good, ".dep-v0", 1<<30), "larger than"},
		"empty section":  {buildPE(nil, ".dep-v0", 0), "empty"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := plugintest.AnalyzeBytes(New(), "bin/app", tt.data)
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			var pe *plugins.ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "bin/app") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q: want a ParseError naming the file and %q", err, tt.msg)
			}
		})
	}
	if bomb.Len() > maxCompressed {
		t.Errorf("the bomb is %d bytes compressed", bomb.Len())
	}
}

// TestPartial checks per-entry problems: the good entries are kept.
func TestPartial(t *testing.T) {
	js := `{"packages":[
		{"name":"app","version":"1.0.0","source":"local","root":true,"dependencies":[1,2,3,99,-1,1]},
		{"name":"a","version":"1.0.0","source":"crates.io","kind":"weird"},
		{"name":"","version":"1.0.0","source":"crates.io"},
		{"name":"b","version":"2.0.0","source":"git","dependencies":[0]},
		{"name":"b","version":"2.0.0","source":"crates.io","dependencies":[1]}
	]}`
	res, err := plugintest.AnalyzeBytes(New(), "app", buildPE(compress(t, []byte(js)), ".dep-v0", 0))
	if err != nil {
		t.Fatal(err)
	}
	got := byPurl(res)
	if len(res.Packages) != 3 {
		t.Fatalf("packages: %v", got)
	}
	if len(res.Errors) != 4 {
		t.Errorf("errors %v, want 4 (kind, no name, two indices)", res.Errors)
	}
	app, a, b := got["pkg:cargo/app@1.0.0"], got["pkg:cargo/a@1.0.0"], got["pkg:cargo/b@2.0.0"]
	if !slices.Equal(app.DependsOn, []string{a.BOMRef, b.BOMRef}) {
		t.Errorf("app depends on %v", app.DependsOn)
	}
	if a.Relationship != report.RelationshipDirect || b.Relationship != report.RelationshipDirect {
		t.Errorf("a %s b %s", a.Relationship, b.Relationship)
	}
	if !slices.Equal(b.DependsOn, []string{app.BOMRef, a.BOMRef}) {
		t.Errorf("b (two sources, merged) depends on %v", b.DependsOn)
	}
}

// TestNoRoot: without a root crate nothing says what is direct.
func TestNoRoot(t *testing.T) {
	js := `{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[1]},{"name":"b","version":"0.1.0","source":"crates.io"}]}`
	res, err := plugintest.AnalyzeBytes(New(), "app", buildPE(compress(t, []byte(js)), ".dep-v0", 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packages {
		if p.Relationship != report.RelationshipUnknown || p.Type != report.TypeLibrary {
			t.Errorf("%s: %s %s", p.Purl, p.Relationship, p.Type)
		}
	}
	if len(res.Packages) != 2 || len(res.Packages[0].DependsOn) != 1 {
		t.Errorf("packages %+v", res.Packages)
	}
}

// TestNotReaderAt checks the temporary-copy path for readers without ReadAt.
func TestNotReaderAt(t *testing.T) {
	f, err := os.Open("testdata/hello-auditable")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	res, err := New().Analyze(context.Background(), &plugins.Input{Path: "hello-auditable", Reader: struct{ io.Reader }{f}, Info: info})
	if err != nil {
		t.Fatal(err)
	}
	checkHello(t, "hello-auditable", res)
}

func TestFileRequired(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"usr/local/bin/rg", 0o755, 5 << 20, true},
		{"app.exe", 0o644, 10 << 20, true},
		{"usr/share/doc/readme", 0o644, 10 << 20, false},
		{"bin/run.sh", 0o755, 10 << 20, false},
		{"bin/tiny", 0o755, 100, false},
		{"bin/huge", 0o755, 2 << 30, false},
		{"bin/dir", fs.ModeDir | 0o755, 10 << 20, false},
		{"bin/link", fs.ModeSymlink | 0o755, 10 << 20, false},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{"f": {Mode: tt.mode, ModTime: time.Unix(0, 0)}}
		info, _ := fs.Stat(fsys, "f")
		a, g := New().FileRequired(tt.path, sizedInfo{info, tt.size}), gobinary.New().FileRequired(tt.path, sizedInfo{info, tt.size})
		if a != tt.want || a != g {
			t.Errorf("FileRequired(%s, %v, %d) = %v (go-binary %v), want %v", tt.path, tt.mode, tt.size, a, g, tt.want)
		}
	}
	if New().FileRequired("x", nil) {
		t.Error("claimed a file without info")
	}
}

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

func FuzzAnalyze(f *testing.F) {
	plugintest.SeedCorpus(f, "testdata")
	sec := compress(f, []byte(`{"packages":[{"name":"app","version":"1.0.0","source":"local","root":true,"dependencies":[1]},{"name":"b","version":"2.0.0","source":"crates.io","kind":"build"}]}`))
	f.Add(buildPE(sec, ".dep-v0", 0))
	f.Add(buildMachO(sec, "__DATA", ".dep-v0"))
	f.Add(buildFat(buildMachO(sec, "__DATA", ".dep-v0")))
	plugintest.Fuzz(f, New(), "app")
}

// --- test helpers: minimal executables built in memory ---

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compress(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	if _, err := zw.Write(bytes.TrimSpace(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// buildPE returns a minimal PE file (no optional header) with one section
// named name holding data. rawSize, when not 0, overrides the section's
// recorded size.
func buildPE(data []byte, name string, rawSize uint32) []byte {
	var b bytes.Buffer
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40)
	b.Write(dos)
	b.WriteString("PE\x00\x00")
	binary.Write(&b, binary.LittleEndian, pe.FileHeader{Machine: pe.IMAGE_FILE_MACHINE_AMD64, NumberOfSections: 1, Characteristics: 0x22})
	off := uint32(b.Len() + 40)
	size := uint32(len(data))
	if rawSize != 0 {
		size = rawSize
	}
	var sh pe.SectionHeader32
	copy(sh.Name[:], name)
	sh.VirtualSize, sh.VirtualAddress, sh.SizeOfRawData, sh.PointerToRawData = uint32(len(data)), 0x1000, size, off
	sh.Characteristics = 0x40000040
	binary.Write(&b, binary.LittleEndian, sh)
	b.Write(data)
	return b.Bytes()
}

// buildMachO returns a minimal 64-bit Mach-O executable with one segment
// holding one section.
func buildMachO(data []byte, seg, sect string) []byte {
	const hdr, segLen, secLen = 32, 72, 80
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, macho.FileHeader{Magic: macho.Magic64, Cpu: macho.CpuAmd64, SubCpu: 3, Type: macho.TypeExec, Ncmd: 1, Cmdsz: segLen + secLen})
	binary.Write(&b, binary.LittleEndian, uint32(0)) // reserved
	off := uint64(hdr + segLen + secLen)
	s := macho.Segment64{Cmd: macho.LoadCmdSegment64, Len: segLen + secLen, Addr: 0x100000000, Memsz: uint64(len(data)), Offset: off, Filesz: uint64(len(data)), Maxprot: 3, Prot: 3, Nsect: 1}
	copy(s.Name[:], seg)
	binary.Write(&b, binary.LittleEndian, s)
	sec := macho.Section64{Addr: 0x100000000, Size: uint64(len(data)), Offset: uint32(off)}
	copy(sec.Name[:], sect)
	copy(sec.Seg[:], seg)
	binary.Write(&b, binary.LittleEndian, sec)
	b.Write(data)
	return b.Bytes()
}

// buildFat wraps one Mach-O file in a universal binary.
func buildFat(m []byte) []byte {
	const off = 0x1000
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, []uint32{macho.MagicFat, 1, uint32(macho.CpuAmd64), 3, off, uint32(len(m)), 12})
	b.Write(make([]byte, off-b.Len()))
	b.Write(m)
	return b.Bytes()
}

// TestELFTablesFit checks the header sanity check on real files and on
// headers whose tables lie beyond the end of the file.
func TestELFTablesFit(t *testing.T) {
	hello := readFile(t, "testdata/hello-auditable")
	i386 := readFile(t, "testdata/mytool-i386")
	// patch returns a copy of b with v written at off (little-endian, n bytes).
	patch := func(b []byte, off, n int, v uint64) []byte {
		c := append([]byte(nil), b...)
		for i := 0; i < n; i++ {
			c[off+i] = byte(v >> (8 * i))
		}
		return c
	}
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"ELF64", hello, true},
		{"ELF32", i386, true},
		{"no section headers", patch(patch(hello, 40, 8, 0), 60, 2, 0), true},
		{"phnum beyond the file", patch(hello, 56, 2, 0xffff), false},
		{"shoff beyond the file", patch(hello, 40, 8, 1<<40), false},
		{"shnum beyond the file", patch(hello, 60, 2, 0xffff), false},
		{"shstrndx out of range", patch(hello, 62, 2, 0xfff0), false},
		{"ELF32 shnum beyond the file", patch(i386, 48, 2, 0xffff), false},
		{"short", hello[:40], false},
	}
	for _, tt := range tests {
		if got := elfTablesFit(bytes.NewReader(tt.data), int64(len(tt.data))); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if !tt.want {
			if res, err := plugintest.AnalyzeBytes(New(), "x", tt.data); err != nil || len(res.Packages) != 0 {
				t.Errorf("%s: %v %v", tt.name, res, err)
			}
		}
	}
	// Extended numbering: e_shnum 0, the count in section 0's sh_size.
	shoff := int(binary.LittleEndian.Uint64(hello[40:]))
	shnum := uint64(binary.LittleEndian.Uint16(hello[60:]))
	ext := patch(patch(hello, 60, 2, 0), shoff+32, 8, shnum)
	if !elfTablesFit(bytes.NewReader(ext), int64(len(ext))) {
		t.Error("extended section numbering rejected")
	}
	ext = patch(ext, shoff+32, 8, 1<<40)
	if elfTablesFit(bytes.NewReader(ext), int64(len(ext))) {
		t.Error("huge extended section count accepted")
	}
}
