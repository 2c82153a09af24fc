//go:build ignore

// gen_testdata builds the ELF fixtures in testdata: a minimal program
// assembled and linked with GNU binutils (as, ld, strip), to which objcopy
// adds the .dep-v0 section the way cargo-auditable's linker section looks:
// the zlib-compressed audit JSON of testdata/*.json.
//
// Run it from this directory: go run gen_testdata.go (needs binutils with
// x86 support: apt-get install binutils).
package main

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
)

const prog64 = ".globl _start\n.text\n_start:\n  mov $60, %eax\n  xor %edi, %edi\n  syscall\n"
const prog32 = ".globl _start\n.text\n_start:\n  mov $1, %eax\n  xor %ebx, %ebx\n  int $0x80\n"

func main() {
	tmp, err := os.MkdirTemp("", "gen-cargoauditable-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	base64 := link(tmp, "base64", prog64, nil, []string{"-static"})
	base32 := link(tmp, "base32", prog32, []string{"--32"}, []string{"-m", "elf_i386", "-static"})

	build(tmp, base64, "testdata/hello-auditable", compress(read("testdata/app.json")))
	build(tmp, base32, "testdata/mytool-i386", compress(read("testdata/tool.json")))
	build(tmp, base64, "testdata/plain", nil)
	build(tmp, base64, "testdata/badzlib", []byte("this section is not a zlib stream"))
}

// link assembles and links src into a stripped executable.
func link(dir, name, src string, asFlags, ldFlags []string) string {
	s := filepath.Join(dir, name+".s")
	o := filepath.Join(dir, name+".o")
	out := filepath.Join(dir, name)
	if err := os.WriteFile(s, []byte(src), 0o644); err != nil {
		log.Fatal(err)
	}
	run("as", append(asFlags, "-o", o, s)...)
	run("ld", append(ldFlags, "-o", out, o)...)
	run("strip", out)
	return out
}

// build copies base to out, adding the .dep-v0 section with content
// section unless it is nil.
func build(dir, base, out string, section []byte) {
	if section == nil {
		run("cp", base, out)
	} else {
		sec := filepath.Join(dir, "section")
		if err := os.WriteFile(sec, section, 0o644); err != nil {
			log.Fatal(err)
		}
		run("objcopy", "--add-section", ".dep-v0="+sec, "--set-section-flags", ".dep-v0=noload,readonly", base, out)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", out)
}

func compress(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	zw.Write(bytes.TrimSpace(data))
	zw.Close()
	return b.Bytes()
}

func read(p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	return data
}

func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
